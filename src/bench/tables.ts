/** The summary and comparison tables, as text (terminal, markdown) or HTML. */
import type { Bundle } from './bundle.ts'
import type { PointResult } from './results.ts'
import { seedFigure } from './seed-figures.ts'

type Format = 'markdown' | 'html'

function latency(v: number | null): string {
  if (v === null) return '—'
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`
}

function table(head: string[], rows: string[][], format: Format): string {
  if (format === 'html') {
    const esc = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)
    return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
      .map(
        (r) =>
          `<tr>${r.map((c) => `<td${c.startsWith('LOST') ? ' class="lost"' : ''}>${esc(c)}</td>`).join('')}</tr>`,
      )
      .join('')}</tbody></table>`
  }
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n')
}

/** One row per point: rates, latency percentiles, lag, records lost. */
export function renderSummaryTable(points: readonly PointResult[], format: Format): string {
  const head = [
    'point',
    'offered/s',
    'produced/s',
    'handled/s',
    'e2e p50',
    'e2e p99',
    'e2e max',
    'done p50',
    'done p99',
    'lag mean',
    'lag max',
    'lost',
    'bench CPU',
    'loop delay p99',
  ]
  const rows = points.map((p) => [
    `${p.name}${p.interrupted ? ' (interrupted)' : ''}`,
    String(p.offeredRate),
    String(p.producedRate),
    String(p.consumedRate),
    latency(p.endToEndMs.p50),
    latency(p.endToEndMs.p99),
    latency(p.endToEndMs.max),
    latency(p.publishToDoneMs.p50),
    latency(p.publishToDoneMs.p99),
    String(p.lag.mean ?? '—'),
    String(p.lag.max ?? '—'),
    p.lost === 0 ? '0' : `LOST ${p.lost}`,
    p.benchProcess?.cpuPercent == null ? '—' : `${p.benchProcess.cpuPercent} %`,
    latency(p.benchProcess?.eventLoopDelayMs.p99 ?? null),
  ])
  return table(head, rows, format)
}

/** The measured table with the seed study's figures beside it (points the study has). */
export function renderSeedTable(bundle: Bundle): string {
  const seed = bundle.summary.workload.seed
  const rows = bundle.points.flatMap((p) => {
    const s = seedFigure(seed, p.name)
    if (!s) return []
    return [
      [
        p.name,
        `${p.consumedRate}/s`,
        latency(p.endToEndMs.p50),
        latency(p.endToEndMs.p99),
        latency(p.endToEndMs.max),
        s.throughput,
        s.endToEnd,
      ],
    ]
  })
  if (rows.length === 0) return ''
  return table(
    ['point', 'handled', 'e2e p50', 'e2e p99', 'e2e max', 'seed: throughput', 'seed: end-to-end latency'],
    rows,
    'markdown',
  )
}

/** Two decimals, or two significant digits below 0.01 (a ×0.00 says nothing). */
function small(r: number): string {
  return r >= 0.01 || r === 0 ? r.toFixed(2) : r.toPrecision(2)
}

/** `bench compare`: B ÷ A per point both bundles have (throughput, p50/p99/max, lag max). */
export function renderComparison(a: Bundle, b: Bundle): string {
  const ratio = (x: number | null, y: number | null): string =>
    x === null || y === null ? '—' : x === 0 ? (y === 0 ? '1.00' : '∞') : small(y / x)
  const rows: string[][] = []
  const missing: string[] = []
  for (const pa of a.points) {
    const pb = b.points.find((p) => p.name === pa.name)
    if (!pb) {
      missing.push(pa.name)
      continue
    }
    rows.push([
      pa.name,
      `${pa.consumedRate} → ${pb.consumedRate} (×${ratio(pa.consumedRate, pb.consumedRate)})`,
      `${latency(pa.endToEndMs.p50)} → ${latency(pb.endToEndMs.p50)} (×${ratio(pa.endToEndMs.p50, pb.endToEndMs.p50)})`,
      `${latency(pa.endToEndMs.p99)} → ${latency(pb.endToEndMs.p99)} (×${ratio(pa.endToEndMs.p99, pb.endToEndMs.p99)})`,
      `${latency(pa.endToEndMs.max)} → ${latency(pb.endToEndMs.max)} (×${ratio(pa.endToEndMs.max, pb.endToEndMs.max)})`,
      `${pa.lag.max ?? '—'} → ${pb.lag.max ?? '—'} (×${ratio(pa.lag.max, pb.lag.max)})`,
    ])
  }
  const only = b.points.filter((p) => !a.points.some((q) => q.name === p.name)).map((p) => p.name)
  const notes = [
    missing.length ? `only in A: ${missing.join(', ')}` : '',
    only.length ? `only in B: ${only.join(', ')}` : '',
  ].filter(Boolean)
  return `A = ${a.dir}\nB = ${b.dir}\nratios are B ÷ A\n\n${table(
    ['point', 'handled/s', 'e2e p50', 'e2e p99', 'e2e max', 'lag max'],
    rows,
    'markdown',
  )}${notes.length ? `\n\n${notes.join('\n')}` : ''}\n`
}
