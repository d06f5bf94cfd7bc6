// What the soak (chaos/soak.ts) makes of the members' samples: per member, RSS first/max/last, the
// RSS and heap slopes (least squares after a warm-up), the worst event-loop delay p99, records
// handled; whether every RSS sample stayed under the bound; and the Markdown table for
// RELIABILITY.md. Pure functions of the samples (test/unit/chaos/soak-report.test.ts).
import type { MemberSample, SoakKind } from './soak-member.ts'

const MB = 1024 * 1024

export interface MemberSummary {
  kind: SoakKind
  samples: number
  /** RSS of the first, largest and last sample, MB. */
  rssFirstMb: number
  rssMaxMb: number
  rssLastMb: number
  /** Least-squares slope of RSS over the samples after the warm-up, MB per 10 minutes. */
  rssSlopeMbPer10Min: number
  heapMaxMb: number
  heapSlopeMbPer10Min: number
  /** Largest per-window p99 and max of the event-loop delay, ms. */
  eldP99Ms: number
  eldMaxMs: number
  handled: number
  errors: number
  /** Samples at or above the bound. */
  overBound: number
}

/**
 * Least-squares slope of `y` over `x` (units of y per unit of x); 0 for fewer than two distinct x.
 */
export function slope(points: ReadonlyArray<readonly [x: number, y: number]>): number {
  const n = points.length
  if (n < 2) return 0
  let sx = 0
  let sy = 0
  for (const [x, y] of points) {
    sx += x
    sy += y
  }
  const mx = sx / n
  const my = sy / n
  let sxy = 0
  let sxx = 0
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
  }
  return sxx === 0 ? 0 : sxy / sxx
}

const TEN_MINUTES_MS = 10 * 60_000

/** The slope of `value` (bytes) over the samples at or after `warmupMs`, in MB per 10 minutes. */
function slopePer10Min(
  samples: readonly MemberSample[],
  warmupMs: number,
  value: (s: MemberSample) => number,
) {
  const after = samples.filter((s) => s.atMs >= warmupMs)
  return (slope(after.map((s) => [s.atMs, value(s)] as const)) * TEN_MINUTES_MS) / MB
}

export function summarize(
  kind: SoakKind,
  samples: readonly MemberSample[],
  options: { warmupMs: number; rssBoundMb: number },
): MemberSummary {
  const max = (f: (s: MemberSample) => number) => samples.reduce((m, s) => Math.max(m, f(s)), 0)
  const last = samples.at(-1)
  return {
    kind,
    samples: samples.length,
    rssFirstMb: (samples[0]?.rss ?? 0) / MB,
    rssMaxMb: max((s) => s.rss) / MB,
    rssLastMb: (last?.rss ?? 0) / MB,
    rssSlopeMbPer10Min: slopePer10Min(samples, options.warmupMs, (s) => s.rss),
    heapMaxMb: max((s) => s.heapUsed) / MB,
    heapSlopeMbPer10Min: slopePer10Min(samples, options.warmupMs, (s) => s.heapUsed),
    eldP99Ms: max((s) => s.eldP99Ms),
    eldMaxMs: max((s) => s.eldMaxMs),
    handled: last?.handled ?? 0,
    errors: last?.errors ?? 0,
    overBound: samples.filter((s) => s.rss >= options.rssBoundMb * MB).length,
  }
}

const LABELS: Record<SoakKind, string> = {
  consumer: 'consumer group',
  segments: 'parallel segments',
  share: 'share group',
}

const mb = (v: number) => v.toFixed(0)
const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`

/** One row per member: the table of RELIABILITY.md § Soak and memory. */
export function soakTable(summaries: readonly MemberSummary[]): string {
  const lines = [
    '| group | samples | RSS first / max / last (MB) | RSS slope (MB per 10 min) | heap used max (MB) | heap slope (MB per 10 min) | event-loop delay p99, worst window (ms) | records handled | errors |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const s of summaries) {
    lines.push(
      `| ${LABELS[s.kind]} | ${s.samples} | ${mb(s.rssFirstMb)} / ${mb(s.rssMaxMb)} / ${mb(s.rssLastMb)} | ${signed(s.rssSlopeMbPer10Min)} | ${mb(s.heapMaxMb)} | ${signed(s.heapSlopeMbPer10Min)} | ${s.eldP99Ms.toFixed(1)} | ${s.handled.toLocaleString('en')} | ${s.errors} |`,
    )
  }
  return lines.join('\n')
}
