// `npm run example:segments`: parallel segments end to end. Starts the local Kafka (or uses
// KAFKA_BOOTSTRAP_SERVERS), produces page views of 12 users to a fresh 3-partition topic, runs
// the 3 segments of examples/segments/analytics-app.ts in 3 worker processes (one segment each),
// and prints where each user's records went: which segment, which process, how many, in order.
// Exits 0 when every record was handled exactly once, by its segment, and every segment
// committed at the log end.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { Admin, Producer } from '@platformatic/kafka'
import { startLocalKafka } from '../../src/devkafka/local-broker.ts'
import { BOOTSTRAP_ENV } from '../../src/kafka/bootstrap.ts'
import { defaultSegmentReducer } from '../../src/segments/reducers.ts'
import { type PageView, SEGMENTS } from './analytics-app.ts'

const USERS = 12
const RECORDS = 600
const PARTITIONS = 3

async function kafka(): Promise<string> {
  const given = process.env[BOOTSTRAP_ENV]
  if (given) {
    process.stdout.write(`Kafka: ${given} (from ${BOOTSTRAP_ENV})\n`)
    return given
  }
  const { state, reused } = await startLocalKafka({
    onProgress: (m) => process.stderr.write(`local Kafka: ${m}…\n`),
  })
  process.stdout.write(
    `Kafka: ${state.bootstrap} (the local Apache Kafka ${state.version}, ${reused ? 'already running' : 'started now'}; \`npx multilane kafka stop\` stops it)\n`,
  )
  return state.bootstrap
}

interface Handled {
  pid: number
  segment: number
  group: string
  user: string
  seq: number
}

function startWorker(segment: number, env: NodeJS.ProcessEnv, onRecord: (h: Handled) => void): ChildProcess {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'worker.ts'), String(segment)], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let rest = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n')
    rest = lines.pop()!
    for (const line of lines) if (line.startsWith('{')) onRecord(JSON.parse(line) as Handled)
  })
  return child
}

async function lagOf(admin: Admin, group: string, topic: string): Promise<number> {
  const partitions = [...Array(PARTITIONS).keys()]
  const [committed] = await admin.listConsumerGroupOffsets({
    groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: partitions }] }],
  })
  const ends = await admin.listOffsets({
    topics: [{ name: topic, partitions: partitions.map((p) => ({ partitionIndex: p, timestamp: -1n })) }],
  })
  let lag = 0
  for (const p of ends[0]!.partitions) {
    const c = committed?.topics[0]?.partitions.find((x) => x.partitionIndex === p.partitionIndex)
    lag += Number(p.offset) - Math.max(0, Number(c?.committedOffset ?? -1))
  }
  return lag
}

async function main(): Promise<void> {
  const bootstrap = await kafka()
  const run = Date.now().toString(36)
  const topic = `segments-example-${run}`
  const group = `analytics-${run}`
  const admin = new Admin({ clientId: 'segments-example', bootstrapBrokers: [bootstrap] })
  await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 })

  // Page views; user-0 is busy (a third of all views).
  const views: PageView[] = []
  for (let seq = 0; seq < RECORDS; seq++) {
    const user = seq % 3 === 0 ? 'user-0' : `user-${1 + (seq % (USERS - 1))}`
    views.push({ user, page: `/p/${seq % 17}`, seq })
  }
  const producer = new Producer({
    clientId: 'segments-example',
    bootstrapBrokers: [bootstrap],
    idempotent: true,
  })
  await producer.send({
    messages: views.map((v) => ({
      topic,
      key: Buffer.from(v.user),
      value: Buffer.from(JSON.stringify(v)),
      headers: new Map([[Buffer.from('user'), Buffer.from(v.user)]]),
    })),
  })
  await producer.close()
  process.stdout.write(
    `produced ${RECORDS} page views of ${USERS} users to ${topic} (${PARTITIONS} partitions)\n`,
  )

  const handled: Handled[] = []
  const env = {
    ...process.env,
    KAFKA_BOOTSTRAP_SERVERS: bootstrap,
    SEGMENTS_EXAMPLE_TOPIC: topic,
    SEGMENTS_EXAMPLE_GROUP: group,
  }
  const workers = [...Array(SEGMENTS).keys()].map((s) => startWorker(s, env, (h) => handled.push(h)))
  process.stdout.write(
    `running segments 0..${SEGMENTS - 1} of group ${group}, one per process: ${workers.map((w) => w.pid).join(', ')}\n`,
  )
  const deadline = Date.now() + 120_000
  const groups = [...Array(SEGMENTS).keys()].map((s) => `${group}-parallel-${s}`)
  let lags: number[] = []
  for (;;) {
    lags = await Promise.all(groups.map((g) => lagOf(admin, g, topic)))
    if (handled.length >= RECORDS && lags.every((l) => l === 0)) break
    if (Date.now() > deadline)
      throw new Error(`timed out: ${handled.length} handled, lags ${lags.join(', ')}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  await Promise.all(
    workers.map((w) => {
      const exited = new Promise((resolve) => w.once('exit', resolve))
      w.kill('SIGTERM')
      return exited
    }),
  )
  // After the graceful stop: what each segment's Kafka group has committed.
  lags = await Promise.all(groups.map((g) => lagOf(admin, g, topic)))
  await admin.close()

  // Where each user's views went.
  const problems: string[] = []
  process.stdout.write('\nuser      views  segment  Kafka group                       process  in order\n')
  for (let u = 0; u < USERS; u++) {
    const user = `user-${u}`
    const mine = handled.filter((h) => h.user === user)
    const segments = [...new Set(mine.map((h) => h.segment))]
    const pids = [...new Set(mine.map((h) => h.pid))]
    const seqs = mine.map((h) => h.seq)
    const inOrder = seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)
    const expected = views.filter((v) => v.user === user).length
    if (segments.length !== 1 || segments[0] !== defaultSegmentReducer(user, SEGMENTS))
      problems.push(`${user}: segments ${segments}`)
    if (mine.length !== expected) problems.push(`${user}: ${mine.length} handled, ${expected} produced`)
    if (!inOrder) problems.push(`${user}: out of order`)
    process.stdout.write(
      `${user.padEnd(9)} ${String(mine.length).padStart(5)}  ${String(segments.join(',')).padStart(7)}  ${(mine[0]?.group ?? '').padEnd(32)}  ${String(pids.join(',')).padStart(7)}  ${inOrder ? 'yes' : 'NO'}\n`,
    )
  }
  process.stdout.write('\nsegment  process  users  views  lag\n')
  for (let s = 0; s < SEGMENTS; s++) {
    const mine = handled.filter((h) => h.segment === s)
    process.stdout.write(
      `${String(s).padStart(7)}  ${String([...new Set(mine.map((h) => h.pid))].join(',')).padStart(7)}  ${String(new Set(mine.map((h) => h.user)).size).padStart(5)}  ${String(mine.length).padStart(5)}  ${String(lags[s]).padStart(3)}\n`,
    )
  }
  process.stdout.write(
    `\nEvery segment read all ${RECORDS} records and kept its users' (filtered records count as done: lag 0 everywhere).\n`,
  )
  if (lags.some((l) => l !== 0)) problems.push(`lags after stop: ${lags.join(', ')}`)
  if (problems.length > 0) {
    process.stderr.write(`problems:\n  ${problems.join('\n  ')}\n`)
    process.exitCode = 1
  }
}

await main()
