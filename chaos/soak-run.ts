// `npm run soak` (node chaos/soak-run.ts): the long form of the soak (chaos/soak.ts). Starts a
// broker of its own (stopped at the end) unless --bootstrap or KAFKA_BOOTSTRAP_SERVERS names a
// cluster, preloads the backlog, runs the three members for --minutes, prints the
// RELIABILITY.md table. Every sample goes to samples.jsonl in the work directory it names.
// Exit 0 when every member ran to the end, handled records and stayed under the RSS bound, 1
// otherwise, 2 on a usage error.
//
//   node chaos/soak-run.ts [--minutes M] [--backlog N] [--bytes B] [--sample-seconds S]
//                          [--capacity C] [--handler-ms MS] [--rss-bound-mb MB] [--member-heap-mb MB]
//                          [--member-semi-space-mb MB] [--bootstrap h:p,…]
import { mkdtempSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseBootstrapList } from '../bench/throughput/broker.ts'
import { type PrivateBroker, startPrivateBroker } from '../test/support/private-broker.ts'
import { runSoak } from './soak.ts'
import { soakTable } from './soak-report.ts'

const USAGE =
  'usage: node chaos/soak-run.ts [--minutes M] [--backlog N] [--bytes B] [--sample-seconds S] [--capacity C] [--handler-ms MS] [--rss-bound-mb MB] [--member-heap-mb MB] [--member-semi-space-mb MB] [--bootstrap host:port,…]'

function usage(message: string): never {
  process.stderr.write(`soak: ${message}\n${USAGE}\n`)
  process.exit(2)
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) usage(`--${name} must be a number > 0, got ${JSON.stringify(value)}`)
  return n
}

function integer(name: string, value: string | undefined, fallback: number): number {
  const n = positive(name, value, fallback)
  if (!Number.isSafeInteger(n)) usage(`--${name} must be an integer ≥ 1, got ${JSON.stringify(value)}`)
  return n
}

let values: Record<string, string | undefined>
try {
  values = parseArgs({
    options: Object.fromEntries(
      [
        'minutes',
        'backlog',
        'bytes',
        'sample-seconds',
        'capacity',
        'handler-ms',
        'rss-bound-mb',
        'member-heap-mb',
        'member-semi-space-mb',
        'bootstrap',
      ].map((name) => [name, { type: 'string' }]),
    ),
    strict: true,
  }).values as Record<string, string | undefined>
} catch (error) {
  usage((error as Error).message)
}
const minutes = positive('minutes', values.minutes, 30)
const backlog = integer('backlog', values.backlog, 1_000_000)
const bytes = integer('bytes', values.bytes, 1024)
const sampleSeconds = positive('sample-seconds', values['sample-seconds'], 10)
const capacity = integer('capacity', values.capacity, 500)
const handlerMs = integer('handler-ms', values['handler-ms'], 1000)
const rssBoundMb = positive('rss-bound-mb', values['rss-bound-mb'], 300)
const memberHeapMb =
  values['member-heap-mb'] === undefined ? undefined : integer('member-heap-mb', values['member-heap-mb'], 0)
const memberSemiSpaceMb =
  values['member-semi-space-mb'] === undefined
    ? undefined
    : integer('member-semi-space-mb', values['member-semi-space-mb'], 0)
const named = values.bootstrap ?? process.env.KAFKA_BOOTSTRAP_SERVERS
let bootstrap: string[] | undefined
if (named !== undefined) {
  try {
    bootstrap = parseBootstrapList(
      named,
      values.bootstrap !== undefined ? '--bootstrap' : 'KAFKA_BOOTSTRAP_SERVERS',
    )
  } catch (error) {
    usage((error as Error).message)
  }
}

function memberFlags(heapMb: number | undefined, semiSpaceMb: number | undefined): string {
  const flags = [
    ...(heapMb ? [`--max-old-space-size=${heapMb}`] : []),
    ...(semiSpaceMb ? [`--max-semi-space-size=${semiSpaceMb}`] : []),
  ]
  return flags.length > 0 ? flags.join(' ') : "Node's default heap sizing"
}

const log = (message: string) =>
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const workDir = mkdtempSync(join(tmpdir(), 'multilane-soak-'))
let broker: PrivateBroker | undefined
const stopBroker = async () => {
  const b = broker
  broker = undefined
  await b?.stop()
}
process.once('SIGINT', () => {
  void stopBroker().finally(() => process.exit(130))
})
try {
  if (!bootstrap) {
    broker = await startPrivateBroker({ onProgress: (m) => log(`broker: ${m}`) })
    bootstrap = broker.state.bootstrap.split(',')
    log(`started a private Apache Kafka ${broker.state.version} at ${broker.state.bootstrap}`)
  } else log(`using the cluster at ${bootstrap.join(',')}`)
  const result = await runSoak({
    bootstrap,
    backlog,
    bytes,
    partitions: 6,
    durationMs: minutes * 60_000,
    sampleMs: sampleSeconds * 1000,
    // The first two minutes (a quarter of a short run) are the members filling their buffers.
    warmupMs: Math.min(120_000, (minutes * 60_000) / 4),
    capacity,
    handlerMs,
    segments: 2,
    rssBoundMb,
    ...(memberHeapMb ? { memberHeapMb } : {}),
    ...(memberSemiSpaceMb ? { memberSemiSpaceMb } : {}),
    workDir,
    log,
  })
  const flags = process.argv.slice(2).join(' ')
  process.stdout.write(
    [
      '',
      `soak: \`npm run soak${flags ? ` -- ${flags}` : ''}\`: ${(result.runMs / 60_000).toFixed(1)} min, backlog ${backlog.toLocaleString('en')} × ${bytes} B on ${result.topic} (produced in ${result.preloadSeconds.toFixed(0)} s; 0: already there), capacity ${capacity}, handler ${handlerMs} ms (segments: 2 in one process, ${handlerMs * 2} ms), samples every ${sampleSeconds} s, slopes after the first ${Math.min(120, (minutes * 60) / 4).toFixed(0)} s`,
      `members: ${memberFlags(memberHeapMb, memberSemiSpaceMb)}`,
      `machine: ${cpus().length} cores, load average (1 min) mean ${result.load.mean.toFixed(1)}, max ${result.load.max.toFixed(1)}; Node.js ${process.version}`,
      `samples: ${join(workDir, 'samples.jsonl')} (kill -USR2 <member pid> writes a heap snapshot there)`,
      '',
      soakTable(result.members.map((m) => m.summary)),
      '',
      result.ok
        ? `every RSS sample under ${rssBoundMb} MB; every member ran to the end`
        : `FAILED:\n${result.problems.map((p) => `  - ${p}`).join('\n')}`,
      '',
    ].join('\n'),
  )
  process.exitCode = result.ok ? 0 : 1
} finally {
  await stopBroker()
}
