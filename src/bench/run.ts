/**
 * `multilane bench run`: resolves the target (the local broker, started if needed, or the
 * workload's/flag's bootstrap), runs the chosen points one after another, and writes the bundle
 * after each point, so an interrupted or failed run still leaves what it measured.
 */
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { startLocalKafka } from '../devkafka/local-broker.ts'
import type { KafkaConnectionOptions } from '../kafka/connection-options.ts'
import { packageInfo } from '../package-info.ts'
import { writePoint, writeSummary, writeWorkload } from './bundle.ts'
import { BenchError } from './errors.ts'
import { type PointProgress, runPoint } from './point-runner.ts'
import { writeReport } from './report.ts'
import type { BenchEnvironment, BenchSummary, PointResult } from './results.ts'
import type { Workload } from './workload.ts'

export interface RunBenchOptions {
  /** The result directory (created). Default `bench-results/<workload>-<time>`. */
  out?: string
  /** Only these points (by name; a dimension point matches by its first part too). */
  points?: readonly string[]
  /** Overrides every point's target. */
  bootstrap?: string
  /** Aborting ends the current point's measurement, drains it, writes it, and skips the rest. */
  signal?: AbortSignal
  onProgress?: (progress: PointProgress) => void
  /** Lines about the broker and each point ("point 2/5 cg-continuous: …"). */
  onLine?: (line: string) => void
}

export interface BenchRun {
  dir: string
  summary: BenchSummary
  points: PointResult[]
  /** Path of report.html. */
  report: string
}

/**
 * Runs the workload's points one after another and writes the result bundle (after every point)
 * and its report. Records lost are in each point's result; nothing throws for them.
 */
export async function runBench(workload: Workload, options: RunBenchOptions = {}): Promise<BenchRun> {
  const line = options.onLine ?? (() => {})
  const chosen = choosePoints(workload, options.points)
  const started = new Date()
  const dir =
    options.out ?? join('bench-results', `${workload.name}-${started.toISOString().replace(/[:.]/g, '-')}`)
  writeWorkload(dir, workload.source)
  const environment: BenchEnvironment = {
    node: process.version,
    multilane: packageInfo()?.version ?? 'unknown',
    kafka: 'unknown',
    target: '',
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
    startedAt: started.toISOString(),
  }
  const summary: BenchSummary = {
    workload: {
      name: workload.name,
      description: workload.description,
      ...(workload.seed ? { seed: workload.seed } : {}),
      file: workload.file,
    },
    environment,
    finishedAt: null,
    interrupted: false,
    points: [],
  }
  const results: PointResult[] = []
  const runId = `${workload.name}-${started.getTime().toString(36)}`.slice(0, 80)
  const targets = new Map<string, KafkaConnectionOptions>()
  for (const [i, point] of chosen.entries()) {
    if (options.signal?.aborted) break
    const kafka = await connectionFor(point.config.target, options.bootstrap, targets, environment, line)
    line(`point ${i + 1}/${chosen.length} ${point.name}: ${describe(point.config)}`)
    const result = await runPoint(point, {
      kafka,
      runId,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    })
    results.push(result)
    summary.points.push(result.name)
    summary.interrupted ||= result.interrupted
    writePoint(dir, result)
    writeSummary(dir, summary)
    line(
      `point ${point.name}: ${result.consumedRate}/s handled of ${result.offeredRate}/s offered, ` +
        `end-to-end p50 ${ms(result.endToEndMs.p50)} p99 ${ms(result.endToEndMs.p99)} max ${ms(result.endToEndMs.max)}, ` +
        `lag max ${result.lag.max ?? '?'}, lost ${result.lost}${result.interrupted ? ' (interrupted)' : ''}`,
    )
  }
  summary.finishedAt = new Date().toISOString()
  writeSummary(dir, summary)
  const report = writeReport(dir)
  return { dir, summary, points: results, report }
}

function choosePoints(workload: Workload, names: readonly string[] | undefined) {
  if (!names || names.length === 0) return workload.points
  const known = new Set(workload.points.flatMap((p) => [p.name, p.name.split(',')[0]]))
  const unknown = names.filter((n) => !known.has(n))
  if (unknown.length > 0) {
    throw new BenchError(
      'INVALID_WORKLOAD',
      `--points: ${unknown.map((n) => `"${n}"`).join(', ')} not in ${workload.file} (points: ${workload.points.map((p) => p.name).join(', ')})`,
    )
  }
  return workload.points.filter((p) => names.includes(p.name) || names.includes(p.name.split(',')[0] ?? ''))
}

async function connectionFor(
  target: Workload['points'][number]['config']['target'],
  bootstrapFlag: string | undefined,
  cache: Map<string, KafkaConnectionOptions>,
  environment: BenchEnvironment,
  line: (l: string) => void,
): Promise<KafkaConnectionOptions> {
  const key = bootstrapFlag ?? JSON.stringify(target)
  const known = cache.get(key)
  if (known) return known
  let kafka: KafkaConnectionOptions
  if (bootstrapFlag !== undefined || target !== 'local') {
    const given = typeof target === 'object' ? target : undefined
    kafka = { bootstrap: bootstrapFlag ?? given?.bootstrap ?? '', clientId: 'multilane-bench' }
    if (given?.sasl) kafka.sasl = given.sasl
    if (given?.tls) {
      kafka.tls =
        given.tls === true
          ? true
          : {
              ...(given.tls.caFile ? { ca: readFileSync(given.tls.caFile) } : {}),
              ...(given.tls.servername ? { servername: given.tls.servername } : {}),
            }
    }
    environment.target = String(kafka.bootstrap)
    environment.kafka = 'the given cluster (version not recorded)'
    line(`Kafka: ${kafka.bootstrap}`)
  } else {
    const { state, reused } = await startLocalKafka({ onProgress: (m) => line(`local Kafka: ${m}`) })
    kafka = { bootstrap: state.bootstrap, clientId: 'multilane-bench' }
    environment.target = `local (${state.dir})`
    environment.kafka = state.version
    line(
      `Kafka: ${state.bootstrap} (local Apache Kafka ${state.version}, ${reused ? 'already running' : 'started now'}, ${state.dir})`,
    )
  }
  cache.set(key, kafka)
  return kafka
}

function describe(c: Workload['points'][number]['config']): string {
  const k = c.consumers
  return (
    `${k.group} group, ${k.style}, ${c.topic.partitions} partitions, ${k.members} members` +
    `${k.segments > 1 ? ` × ${k.segments} segments` : ''}, ${k.style === 'blocking' ? `maxPollRecords ${k.maxPollRecords}` : `capacity ${k.capacity}`}, ` +
    `${c.producer.rate}/s, ${c.producer.warmupSeconds} s warm-up + ${c.producer.measureSeconds} s measured`
  )
}

export function ms(v: number | null): string {
  if (v === null) return '—'
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`
}
