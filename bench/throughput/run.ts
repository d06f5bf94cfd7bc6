// Consumer throughput benchmark: on one broker and one preloaded topic, runs each consumer in its
// own child process (sequentially), each reading the whole topic from the beginning with a fresh
// group and doing nothing per record but counting it, and prints records/s with ratios to
// multilane's engine. Results are also written to bench-results/throughput-<timestamp>.json.
//
//   node_modules/.bin/node bench/throughput/run.ts [--records N] [--bytes N] [--partitions N]
//                                                  [--only multilane,platformatic,kafkajs,java,kcat] [--repeat N]
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join, relative } from 'node:path'
import { ensureBroker } from './broker.ts'
import { type FlagSpec, type FlagValue, intFlag, listFlag, runCli } from './flags.ts'
import { TOPIC_FLAGS, type TopicParams, topicParams } from './params.ts'
import { preloadTopic } from './preload.ts'
import type { RunnerResult } from './runners/kit.ts'

interface RunnerSpec {
  /** Name used by --only and in the JSON. */
  name: RunnerName
  label: string
  file: string
}

const RUNNER_NAMES = [
  'multilane',
  'platformatic',
  'kafkajs',
  'java',
  'kcat',
  'continuous',
  'blocking',
] as const
type RunnerName = (typeof RUNNER_NAMES)[number]
/** The client comparison; `continuous` and `blocking` (the processing runtime) run when named. */
const DEFAULT_RUNNERS: readonly RunnerName[] = ['multilane', 'platformatic', 'kafkajs', 'java', 'kcat']

const RUNNERS: readonly RunnerSpec[] = [
  { name: 'multilane', label: 'multilane-engine', file: 'multilane-engine.ts' },
  { name: 'platformatic', label: '@platformatic/kafka Consumer', file: 'platformatic-consumer.ts' },
  { name: 'kafkajs', label: 'KafkaJS 2.2.4 eachBatch', file: 'kafkajs.ts' },
  { name: 'java', label: 'Java ConsumerPerformance', file: 'java-consumer-performance.ts' },
  { name: 'kcat', label: 'kcat (librdkafka)', file: 'kcat.ts' },
  { name: 'continuous', label: 'multilane app, continuous, no-op handler', file: 'multilane-continuous.ts' },
  { name: 'blocking', label: 'multilane app, blocking, no-op handler', file: 'multilane-blocking.ts' },
]

const FLAGS: Record<string, FlagSpec> = {
  ...TOPIC_FLAGS,
  only: {
    kind: 'list',
    choices: RUNNER_NAMES,
    description: `comma-separated runners to run (default: ${DEFAULT_RUNNERS.join(',')}; also: continuous,blocking)`,
  },
  repeat: {
    kind: 'int',
    min: 1,
    max: 100,
    description: 'runs per runner, alternating between runners; the median is reported (default 1)',
  },
}

const ROOT = join(import.meta.dirname, '..', '..')
const STDERR_TAIL_LINES = 25

interface Failure {
  round: number
  reason: string
  stderrTail: string
}

interface RunnerOutcome {
  spec: RunnerSpec
  samples: RunnerResult[]
  failures: Failure[]
  median?: Summary
}

interface Summary {
  recordsPerSec: number
  ms: number
  msIncludingJoin: number
  recordsPerSecIncludingJoin: number
  /** MiB of record values per second at the median records/s. */
  mbPerSec: number
  /** Median CPU µs per record of the runner's process (Node runners; kcat: its own process, from /proc). */
  cpuUsPerRecord?: number
  /** Major GCs of every successful run, in round order (Node runners). */
  majorGcs?: number[]
  samples: number
}

const log = (line: string) => process.stderr.write(`${line}\n`)

async function main(flags: Map<string, FlagValue>): Promise<number> {
  const params = topicParams(flags)
  const only = (listFlag(flags, 'only') as RunnerName[] | undefined) ?? [...DEFAULT_RUNNERS]
  const repeat = intFlag(flags, 'repeat', 1)
  const selected = RUNNERS.filter((r) => only.includes(r.name))
  const startedAt = new Date()
  const loadAverage = loadavg()

  const broker = await ensureBroker(log)
  const preload = await preloadTopic(broker.bootstrap, params, log)

  const outcomes = new Map<RunnerName, RunnerOutcome>(
    selected.map((spec) => [spec.name, { spec, samples: [], failures: [] }]),
  )
  for (let round = 1; round <= repeat; round++) {
    for (const spec of selected) {
      const outcome = outcomes.get(spec.name)!
      const tag = `${spec.name}${repeat > 1 ? ` (run ${round}/${repeat})` : ''}`
      log(`running ${tag}…`)
      const run = await runChild(spec, broker.bootstrap, preload.topic, params)
      if ('result' in run) {
        outcome.samples.push(run.result)
        const { cpuUsPerRecord: cpu, majorGcs } = run.result
        log(
          `  ${tag}: ${fmtInt(run.result.recordsPerSec)} records/s (${fmtMs(run.result.ms)}; ${fmtMs(run.result.msIncludingJoin)} including join${cpu === undefined ? '' : `; ${cpu.toFixed(2)} CPU µs/record`}${majorGcs === undefined ? '' : `; ${majorGcs} major GCs`})`,
        )
      } else {
        outcome.failures.push({ round, ...run })
        log(`  ${tag} FAILED: ${run.reason}\n${indent(run.stderrTail)}`)
      }
    }
  }
  for (const outcome of outcomes.values()) outcome.median = summarize(outcome.samples)

  const report = renderReport(params, preload.topic, broker.bootstrap, repeat, [...outcomes.values()])
  process.stdout.write(report)

  const file = writeResults(startedAt, {
    startedAt: startedAt.toISOString(),
    params,
    topic: preload.topic,
    bootstrap: broker.bootstrap,
    brokerSource: broker.source,
    preload,
    repeat,
    machine: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model,
      loadAverageAtStart: loadAverage,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    runners: Object.fromEntries(
      [...outcomes.values()].map((o) => [
        o.spec.name,
        { label: o.spec.label, median: o.median, samples: o.samples, failures: o.failures },
      ]),
    ),
    ratios: Object.fromEntries(
      ratioLines([...outcomes.values()]).map(({ other, ratio }) => [`multilane/${other}`, ratio ?? null]),
    ),
    table: report,
  })
  log(`results written to ${relative(process.cwd(), file)}`)

  const failed = [...outcomes.values()].filter((o) => o.failures.length > 0)
  if (failed.length > 0) {
    log(`failed: ${failed.map((o) => o.spec.name).join(', ')}`)
    return 1
  }
  return 0
}

type ChildRun = { result: RunnerResult } | { reason: string; stderrTail: string }

/** Runs one runner script in its own Node process and parses the JSON line it prints. */
async function runChild(
  spec: RunnerSpec,
  bootstrap: string[],
  topic: string,
  params: TopicParams,
): Promise<ChildRun> {
  const localNode = join(ROOT, 'node_modules', '.bin', 'node')
  const node = existsSync(localNode) ? localNode : process.execPath
  const args = [
    join(import.meta.dirname, 'runners', spec.file),
    '--bootstrap',
    bootstrap.join(','),
    '--topic',
    topic,
    '--records',
    String(params.records),
    '--bytes',
    String(params.bytes),
  ]
  // Generous: the runners end themselves when records stop arriving; this only catches hangs.
  const timeoutMs = 180_000 + params.records / 5
  const child = spawn(node, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024)
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 5000).unref()
  }, timeoutMs)
  const onSignal = () => child.kill('SIGTERM')
  process.once('SIGINT', onSignal)
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve) => {
      child.once('error', (error) => {
        stderr += `\n${error.message}`
        resolve({ code: null, signal: null })
      })
      child.once('close', (code, signal) => resolve({ code, signal }))
    },
  )
  clearTimeout(timer)
  process.off('SIGINT', onSignal)
  const stderrTail = stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n')

  if (timedOut) return { reason: `killed after ${Math.round(timeoutMs / 1000)} s`, stderrTail }
  if (code !== 0) return { reason: `exited with ${signal ? `signal ${signal}` : `code ${code}`}`, stderrTail }
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'))
  if (!line) return { reason: 'printed no JSON result line', stderrTail }
  let result: RunnerResult
  try {
    result = JSON.parse(line) as RunnerResult
  } catch {
    return { reason: `printed an unparsable result: ${line.slice(0, 200)}`, stderrTail }
  }
  if (
    result.records !== params.records ||
    !(result.recordsPerSec > 0) ||
    !Number.isFinite(result.recordsPerSec)
  ) {
    return {
      reason: `implausible result: ${result.records} records at ${result.recordsPerSec} records/s`,
      stderrTail,
    }
  }
  return { result }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function summarize(samples: RunnerResult[]): Summary | undefined {
  if (samples.length === 0) return undefined
  const recordsPerSec = median(samples.map((s) => s.recordsPerSec))
  const bytesPerRecord = median(samples.map((s) => s.valueBytes / s.records))
  const cpu = samples.flatMap((s) => (s.cpuUsPerRecord === undefined ? [] : [s.cpuUsPerRecord]))
  const majorGcs = samples.flatMap((s) => (s.majorGcs === undefined ? [] : [s.majorGcs]))
  return {
    ...(cpu.length > 0 ? { cpuUsPerRecord: median(cpu) } : {}),
    ...(majorGcs.length > 0 ? { majorGcs } : {}),
    recordsPerSec: Math.round(recordsPerSec),
    ms: median(samples.map((s) => s.ms)),
    msIncludingJoin: median(samples.map((s) => s.msIncludingJoin)),
    recordsPerSecIncludingJoin: Math.round(median(samples.map((s) => s.recordsPerSecIncludingJoin))),
    mbPerSec: (recordsPerSec * bytesPerRecord) / (1024 * 1024),
    samples: samples.length,
  }
}

const RATIO_TARGETS: readonly { name: RunnerName; short: string }[] = [
  { name: 'platformatic', short: 'platformatic' },
  { name: 'kafkajs', short: 'kafkajs' },
  { name: 'java', short: 'java' },
  { name: 'kcat', short: 'kcat' },
]

/** `multilane / <other>` ratios of median records/s, with why one is missing. */
function ratioLines(outcomes: RunnerOutcome[]): { other: string; ratio?: number; missing?: string }[] {
  const byName = new Map(outcomes.map((o) => [o.spec.name, o]))
  const multilane = byName.get('multilane')
  return RATIO_TARGETS.map(({ name, short }) => {
    const other = byName.get(name)
    const missing = !multilane
      ? 'multilane-engine not run'
      : !multilane.median
        ? 'multilane-engine failed'
        : !other
          ? `${short} not run`
          : !other.median
            ? `${short} failed`
            : undefined
    if (missing) return { other: short, missing }
    return { other: short, ratio: multilane!.median!.recordsPerSec / other!.median!.recordsPerSec }
  })
}

function renderReport(
  params: TopicParams,
  topic: string,
  bootstrap: string[],
  repeat: number,
  outcomes: RunnerOutcome[],
): string {
  const multilane = outcomes.find((o) => o.spec.name === 'multilane')?.median
  const lines = [
    '',
    `## Consumer throughput: ${fmtInt(params.records)} records × ${fmtInt(params.bytes)} B values, ${params.partitions} partitions`,
    '',
    `topic \`${topic}\` on ${bootstrap.join(',')}; ${availableParallelism()} CPUs; Node ${process.version}; ` +
      `${repeat > 1 ? `median of ${repeat} runs per consumer (alternating)` : 'one run per consumer'}; ` +
      'records/s from the first record received to the last (Java: its fetch.nMsg.sec; kcat: see runners/kcat.ts); MB/s = MiB of values per second; ' +
      'CPU µs/record = user + system CPU of the runner process over the same span (Node runners; kcat: the kcat process, all its threads, from /proc; little moved by other load); ' +
      'major GCs = mark-compacts over the same span, per successful run (Node runners); ' +
      "multilane's consumers set V8's --external-memory-accounted-in-global-limit themselves (docs/operations.md § The collector and fetched Buffers), the other Node clients run with Node's defaults, as each ships",
    '',
    '| consumer | records/s | MB/s | ratio to multilane-engine (this ÷ multilane) | CPU µs/record (÷ multilane) | major GCs | ms first→last | ms incl. join |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const o of outcomes) {
    const m = o.median
    if (!m) {
      lines.push(`| ${o.spec.label} | failed | – | – | – | – | – | – |`)
      continue
    }
    const ratio = multilane ? `${(m.recordsPerSec / multilane.recordsPerSec).toFixed(2)}×` : 'n/a'
    const partial = o.failures.length > 0 ? ` (${o.failures.length} of ${repeat} runs failed)` : ''
    const cpu =
      m.cpuUsPerRecord === undefined
        ? '–'
        : `${m.cpuUsPerRecord.toFixed(2)}${multilane?.cpuUsPerRecord ? ` (${(m.cpuUsPerRecord / multilane.cpuUsPerRecord).toFixed(2)}×)` : ''}`
    lines.push(
      `| ${o.spec.label}${partial} | ${fmtInt(m.recordsPerSec)} | ${m.mbPerSec.toFixed(1)} | ${ratio} | ${cpu} | ${m.majorGcs?.join(', ') ?? '–'} | ${fmtMs(m.ms)} | ${fmtMs(m.msIncludingJoin)} |`,
    )
  }
  lines.push('')
  for (const { other, ratio, missing } of ratioLines(outcomes)) {
    lines.push(`multilane / ${other} = ${ratio === undefined ? `n/a (${missing})` : `${ratio.toFixed(2)}×`}`)
  }
  lines.push('')
  return `${lines.join('\n')}\n`
}

function writeResults(startedAt: Date, data: unknown): string {
  const dir = join(ROOT, 'bench-results')
  mkdirSync(dir, { recursive: true })
  const stamp = startedAt
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z')
  const file = join(dir, `throughput-${stamp}.json`)
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`)
  return file
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

function fmtMs(ms: number): string {
  return `${fmtInt(ms)} ms`
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')
}

await runCli('run.ts', FLAGS, process.argv.slice(2), main)
