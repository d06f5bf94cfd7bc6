// Parallel segments benchmark (issue 9): prints figures, side by side in one run, alternating
// the variants of each suite round by round and reporting medians.
//
//   npm run bench:segments -- [--suites filter,cpu,hotkey,colocated] [--repeat N]
//                             [--records N] [--bytes N] [--cpu-records N] [--work-us N]
//
// Suites (each variant in its own process(es); topics preloaded once, see topics.ts):
// - filter:    read + filter throughput of one segment of 4 (it reads every record, keeps a
//              quarter, no-op handler) with key (bytes, text), header and payload partitioners,
//              ÷ the bare engine's no-op throughput (a GroupConsumer counting records, as in
//              bench/throughput/runners/multilane-engine.ts) on the same topic; the plain app's
//              no-op throughput for reference. Target ≥ 0.95×.
// - cpu:       a CPU-bound handler (a --work-us busy loop): 2 segments in 2 processes ÷ 1 plain
//              process (and ÷ 2 segments in 1 process). Target ≥ 1.7× on 2 cores.
// - hotkey:    the seed's batch (80 % one user) with the same handler: virtual partitions in one
//              process vs 2 segments in 2 processes.
// - colocated: N segments in one process (each its own member: connections, fetches, decoding)
//              against one plain member, no-op handler: records/s and CPU per 1,000 records.
// Raw results go to bench-results/segments-<timestamp>.json.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { join, relative } from 'node:path'
import { ensureBroker } from '../throughput/broker.ts'
import { type FlagSpec, type FlagValue, intFlag, listFlag, runCli } from '../throughput/flags.ts'
import type { MemberResult, MemberSpec } from './member.ts'
import { ensureTopic, type TopicShape } from './topics.ts'

const SUITES = ['filter', 'cpu', 'hotkey', 'colocated'] as const
type Suite = (typeof SUITES)[number]

const FLAGS: Record<string, FlagSpec> = {
  suites: { kind: 'list', choices: SUITES, description: `suites to run (default: ${SUITES.join(',')})` },
  repeat: { kind: 'int', min: 1, max: 50, description: 'rounds per suite; medians are reported (default 5)' },
  records: { kind: 'int', min: 1000, description: 'records of the filter/colocated topic (default 1000000)' },
  bytes: { kind: 'int', min: 64, max: 512 * 1024, description: 'value bytes there (default 1024)' },
  'cpu-records': { kind: 'int', min: 100, description: 'records of the cpu/hotkey topics (default 10000)' },
  'work-us': {
    kind: 'int',
    min: 1,
    description: 'busy-loop microseconds per record, cpu/hotkey (default 1000)',
  },
}

const ROOT = join(import.meta.dirname, '..', '..')
const log = (line: string) => process.stderr.write(`${line}\n`)

/** One variant: the processes it runs together (or the bare engine runner). */
interface Variant {
  name: string
  /** Processes run together; `engine: true` runs the bare engine instead of an app. */
  members: Array<Omit<MemberSpec, 'bootstrap' | 'topic' | 'shape' | 'group'>>
}

interface Sample {
  /** Records per second: the topic's records ÷ the slowest process's time. */
  rate: number
  ms: number
  /** CPU of all its processes per 1,000 records of the topic. */
  cpuPer1k: number
  processes: MemberResult[]
}

interface SuiteReport {
  suite: Suite
  title: string
  shape: TopicShape
  topic: string
  variants: Array<{ name: string; samples: Sample[]; failures: string[] }>
  /** The variant ratios are taken against. */
  baseline: string
}

const noop = { ordering: 'unordered', capacity: 1000, workUs: 0, gate: false } as const

function suiteVariants(
  suite: Suite,
  workUs: number,
): { title: string; baseline: string; variants: Variant[] } {
  const cpu = { ordering: 'unordered', capacity: 16, workUs, gate: true, partitioner: 'header' } as const
  switch (suite) {
    case 'filter':
      return {
        title: 'Filter cost: one segment of 4 reads every record and keeps a quarter (no-op handler)',
        baseline: 'bare engine, no-op',
        variants: [
          { name: 'bare engine, no-op', members: [{ ...noop, engine: true, count: 1, partitioner: 'key' }] },
          {
            name: 'app, no segments, no-op (handles all)',
            members: [{ ...noop, count: 1, partitioner: 'key' }],
          },
          {
            name: 'segment 0 of 4, key partitioner (bytes: r.key)',
            members: [{ ...noop, count: 4, segments: [0], partitioner: 'key' }],
          },
          {
            name: 'segment 0 of 4, key partitioner (text: r.keyString)',
            members: [{ ...noop, count: 4, segments: [0], partitioner: 'keyText' }],
          },
          {
            name: "segment 0 of 4, header partitioner (r.headers.get('user'))",
            members: [{ ...noop, count: 4, segments: [0], partitioner: 'header' }],
          },
          {
            name: 'segment 0 of 4, header partitioner (bytes: r.raw.headers)',
            members: [{ ...noop, count: 4, segments: [0], partitioner: 'headerBytes' }],
          },
          {
            name: 'segment 0 of 4, payload partitioner (JSON)',
            members: [{ ...noop, count: 4, segments: [0], partitioner: 'payload' }],
          },
        ],
      }
    case 'cpu':
      return {
        title: `CPU-bound scaling: a ${workUs} µs busy loop per record`,
        baseline: '1 process, no segments',
        variants: [
          { name: '1 process, no segments', members: [{ ...cpu, count: 1 }] },
          { name: '1 process, 2 segments', members: [{ ...cpu, count: 2 }] },
          {
            name: '2 processes, 1 segment each',
            members: [
              { ...cpu, count: 2, segments: [0] },
              { ...cpu, count: 2, segments: [1] },
            ],
          },
        ],
      }
    case 'hotkey':
      return {
        title: `Hot key (80 % of the records one user, 20 % another; one partition), ${workUs} µs busy loop, key ordering`,
        baseline: 'virtual partitions, 1 process',
        variants: [
          {
            name: 'virtual partitions, 1 process',
            members: [{ ...cpu, ordering: 'key', virtualPartitions: true, count: 1 }],
          },
          {
            name: '2 segments, 2 processes',
            members: [
              { ...cpu, ordering: 'key', virtualPartitions: true, count: 2, segments: [0] },
              { ...cpu, ordering: 'key', virtualPartitions: true, count: 2, segments: [1] },
            ],
          },
        ],
      }
    case 'colocated':
      return {
        title: 'N segments in one process (one member each) against one member, no-op handler',
        baseline: '1 member (no segments)',
        variants: [
          { name: '1 member (no segments)', members: [{ ...noop, count: 1, partitioner: 'key' }] },
          { name: '2 segments in 1 process', members: [{ ...noop, count: 2, partitioner: 'key' }] },
          { name: '4 segments in 1 process', members: [{ ...noop, count: 4, partitioner: 'key' }] },
        ],
      }
  }
}

function nodeBinary(): string {
  const local = join(ROOT, 'node_modules', '.bin', 'node')
  return existsSync(local) ? local : process.execPath
}

interface Child {
  result: Promise<string>
  ready: Promise<void>
  go(): void
}

/** Runs a script; resolves with its last JSON line (rejects with its stderr tail on failure). */
function runScript(args: string[]): Child {
  const child = spawn(nodeBinary(), args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  let onReady!: () => void
  const ready = new Promise<void>((resolve) => (onReady = resolve))
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    if (stdout.includes('READY\n')) onReady()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16 * 1024)
  })
  const result = new Promise<string>((resolve, reject) => {
    child.once('close', (code) => {
      const line = stdout
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'))
      if (code === 0 && line) resolve(line)
      else reject(new Error(`exited with ${code}: ${stderr.trim().split('\n').slice(-10).join('\n')}`))
    })
  })
  return { result, ready, go: () => child.stdin.write('GO\n') }
}

let groupSeq = 0
const groupId = (suite: string) => `bench-segments-${suite}-${Date.now().toString(36)}-${groupSeq++}`

async function runVariant(
  suite: Suite,
  variant: Variant,
  bootstrap: string[],
  topic: string,
  shape: TopicShape,
): Promise<Sample> {
  const group = groupId(suite)
  const children = variant.members.map((m) =>
    runScript([
      join(import.meta.dirname, 'member.ts'),
      JSON.stringify({ ...m, bootstrap, topic, shape, group } satisfies MemberSpec),
    ]),
  )
  if (variant.members.some((m) => m.gate)) {
    // Every process has records flowing (held at the gate) before any starts the measured work.
    await Promise.race([
      Promise.all(children.map((c) => c.ready)),
      Promise.any(children.map((c) => c.result)),
    ])
    for (const c of children) c.go()
  }
  const results = (await Promise.all(children.map((c) => c.result))).map((l) => JSON.parse(l) as MemberResult)
  const ms = Math.max(...results.map((r) => r.ms))
  const cpuMs = results.reduce((a, r) => a + r.cpuMs, 0)
  return {
    rate: (shape.records / ms) * 1000,
    ms,
    cpuPer1k: (cpuMs / shape.records) * 1000,
    processes: results,
  }
}

function median(values: number[]): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

function render(report: SuiteReport, repeat: number): string {
  const base = median(report.variants.find((v) => v.name === report.baseline)!.samples.map((s) => s.rate))
  const lines = [
    '',
    `### ${report.title}`,
    '',
    `topic \`${report.topic}\` (${report.shape.records.toLocaleString('en-US')} records × ${report.shape.bytes} B); median of ${repeat} alternating rounds`,
    '',
    `| variant | records/s (median) | samples | ÷ ${report.baseline} | CPU ms / 1k records |`,
    '|---|---:|---|---:|---:|',
  ]
  for (const v of report.variants) {
    const rates = v.samples.map((s) => s.rate)
    const m = median(rates)
    const cpu = median(v.samples.map((s) => s.cpuPer1k))
    const samples = rates
      .map((r) => (r >= 10_000 ? `${Math.round(r / 1000)}k` : `${Math.round(r)}`))
      .join(', ')
    const failed = v.failures.length > 0 ? ` (${v.failures.length} failed)` : ''
    lines.push(
      `| ${v.name}${failed} | ${Number.isFinite(m) ? Math.round(m).toLocaleString('en-US') : 'failed'} | ${samples} | ${(m / base).toFixed(2)}× | ${Number.isFinite(cpu) ? cpu.toFixed(1) : '–'} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

async function main(flags: Map<string, FlagValue>): Promise<number> {
  const suites = (listFlag(flags, 'suites') as Suite[] | undefined) ?? [...SUITES]
  const repeat = intFlag(flags, 'repeat', 5)
  const workUs = intFlag(flags, 'work-us', 1000)
  const big: TopicShape = {
    kind: 'keyed',
    records: intFlag(flags, 'records', 1_000_000),
    bytes: intFlag(flags, 'bytes', 1024),
    partitions: 6,
    keys: 10_000,
  }
  const small = { records: intFlag(flags, 'cpu-records', 10_000), bytes: 256, partitions: 6, keys: 1000 }
  const shapes: Record<Suite, TopicShape> = {
    filter: big,
    colocated: big,
    cpu: { kind: 'keyed', ...small },
    hotkey: { kind: 'hot', ...small, partitions: 1 },
  }
  const startedAt = new Date()
  const load = loadavg()
  const broker = await ensureBroker(log)
  const reports: SuiteReport[] = []
  let failed = false
  for (const suite of suites) {
    const shape = shapes[suite]
    const topic = await ensureTopic(broker.bootstrap, shape, log)
    const { title, baseline, variants } = suiteVariants(suite, workUs)
    const report: SuiteReport = {
      suite,
      title,
      shape,
      topic,
      baseline,
      variants: variants.map((v) => ({ name: v.name, samples: [], failures: [] })),
    }
    for (let round = 1; round <= repeat; round++) {
      for (const [i, variant] of variants.entries()) {
        const tag = `${suite} ${round}/${repeat}: ${variant.name}`
        try {
          const sample = await runVariant(suite, variant, broker.bootstrap, topic, shape)
          report.variants[i]!.samples.push(sample)
          log(`${tag}: ${Math.round(sample.rate)} records/s (${Math.round(sample.ms)} ms)`)
        } catch (error) {
          failed = true
          report.variants[i]!.failures.push((error as Error).message)
          log(`${tag} FAILED: ${(error as Error).message}`)
        }
      }
    }
    reports.push(report)
    process.stdout.write(render(report, repeat))
  }
  const dir = join(ROOT, 'bench-results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `segments-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(
    file,
    `${JSON.stringify({ startedAt, cpus: availableParallelism(), loadAverageAtStart: load, node: process.version, reports }, null, 2)}\n`,
  )
  log(`results written to ${relative(process.cwd(), file)}`)
  return failed ? 1 : 0
}

await runCli('bench/segments/run.ts', FLAGS, process.argv.slice(2), main)
