// `node bench/commits/crash-duplicates.ts`: how many records a consumer-group member handles twice
// after a SIGKILL, and what its commits cost the broker. Produces --records records at --rate
// records/s to a fresh topic while a consumer (bench/commits/crash-app.ts: continuous style,
// unordered, capacity --capacity, handlers sleeping 1 to --work-ms ms) runs in a child process;
// SIGKILLs it --kills times (each child after handling its share of the records) and starts it
// again each time; at the end counts, from the handler starts each child logged synchronously,
// the records handled twice, charged to the kill that made them run again. Prints per kill the
// duplicates, the child's throughput in its last second, and the bound the change targets
// (capacity + 200 ms of that throughput, and of --rate), plus the commits per second of the
// children (the broker cost). --src runs another checkout's src/index.ts (before/after).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Admin, Producer } from '@platformatic/kafka'
import { ensureBroker } from '../throughput/broker.ts'
import { type FlagSpec, intFlag, runCli, stringFlag } from '../throughput/flags.ts'

const FLAGS: Record<string, FlagSpec> = {
  records: { kind: 'int', min: 1000, max: 10_000_000, description: 'records produced (default 60000)' },
  rate: { kind: 'int', min: 100, max: 1_000_000, description: 'records per second produced (default 10000)' },
  kills: { kind: 'int', min: 1, max: 20, description: 'SIGKILLs of the consumer (default 3)' },
  capacity: { kind: 'int', min: 1, max: 100_000, description: 'processing.capacity (default 100)' },
  'work-ms': { kind: 'int', min: 1, max: 10_000, description: 'longest handler sleep, ms (default 4)' },
  partitions: { kind: 'int', min: 1, max: 1000, description: 'partitions of the topic (default 6)' },
  'commit-after-records': {
    kind: 'int',
    min: 1,
    max: 100_000_000,
    description: 'processing.commitAfterRecords (default: not set, the default applies)',
  },
  src: {
    kind: 'string',
    description: "the multilane entry module the consumer loads (default: this checkout's src/index.ts)",
  },
  label: { kind: 'string', description: 'names the run in the output (default: the --src given, or "this")' },
}

/** The member's session timeout in the benchmark's group (the broker's minimum on the local broker). */
const SESSION_TIMEOUT_MS = 3000
const APP = fileURLToPath(new URL('./crash-app.ts', import.meta.url))

interface Options {
  records: number
  rate: number
  kills: number
  capacity: number
  workMs: number
  partitions: number
  commitAfterRecords: number | undefined
  src: string | undefined
  label: string
}

/** One child's log: handler starts (in order), commits and assignments, with their times. */
interface ChildLog {
  starts: Array<{ id: string; t: number }>
  commits: number[]
  assigned: number[]
  killedAt?: number
  endedAt: number
}

function readLog(path: string): Omit<ChildLog, 'killedAt' | 'endedAt'> {
  const log: Omit<ChildLog, 'killedAt' | 'endedAt'> = { starts: [], commits: [], assigned: [] }
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return log
  }
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    // A line cut by the SIGKILL has too few fields: ignored.
    if (f[0] === 's' && f.length === 4) log.starts.push({ id: `${f[1]}:${f[2]}`, t: Number(f[3]) })
    else if (f[0] === 'c' && f.length === 2) log.commits.push(Number(f[1]))
    else if (f[0] === 'a' && f.length === 2) log.assigned.push(Number(f[1]))
  }
  return log
}

/** Counts the handler starts in a log file without parsing it all (the watcher polls it). */
function countStarts(path: string): number {
  let text: string
  try {
    text = readFileSync(path, 'latin1')
  } catch {
    return 0
  }
  let n = 0
  let i = text.indexOf('s ')
  while (i !== -1) {
    if (i === 0 || text.charCodeAt(i - 1) === 10) n++
    i = text.indexOf('\ns ', i + 1)
    if (i !== -1) i++
  }
  return n
}

async function produce(bootstrap: string[], topic: string, o: Options, done: { value: boolean }) {
  const producer = new Producer({
    clientId: 'crash-duplicates',
    bootstrapBrokers: bootstrap,
    idempotent: true,
  })
  const tickMs = 20
  const started = Date.now()
  let sent = 0
  try {
    while (sent < o.records) {
      const due = Math.min(o.records, Math.floor(((Date.now() - started) / 1000) * o.rate))
      const messages = []
      for (; sent < due; sent++)
        messages.push({ topic, key: Buffer.from(`k${sent}`), value: Buffer.from(`v${sent}`) })
      if (messages.length) await producer.send({ messages })
      await sleep(tickMs)
    }
  } finally {
    await producer.close()
    done.value = true
  }
  return (Date.now() - started) / 1000
}

function spawnChild(
  bootstrap: string[],
  topic: string,
  group: string,
  log: string,
  o: Options,
): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BOOTSTRAP_SERVERS: bootstrap.join(','),
    CRASH_TOPIC: topic,
    CRASH_GROUP: group,
    CRASH_LOG: log,
    CRASH_CAPACITY: String(o.capacity),
    CRASH_WORK_MS: String(o.workMs),
  }
  if (o.src) env.CRASH_SRC = o.src
  if (o.commitAfterRecords !== undefined) env.CRASH_COMMIT_AFTER_RECORDS = String(o.commitAfterRecords)
  const child = spawn(process.execPath, [APP], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  return child
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function measure(bootstrap: string[], o: Options): Promise<string> {
  const run = Date.now().toString(36)
  const topic = `bench-crash-${run}`
  const group = `bench-crash-${run}`
  const admin = new Admin({ clientId: 'crash-duplicates', bootstrapBrokers: bootstrap })
  try {
    await admin.createTopics({ topics: [topic], partitions: o.partitions, replicas: 1 })
    // A killed member keeps its partitions until its session expires: keep that wait short.
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: 32, // GROUP
          resourceName: group,
          configs: [
            { name: 'consumer.session.timeout.ms', configOperation: 0, value: String(SESSION_TIMEOUT_MS) },
          ],
        },
      ] as never,
    })
  } finally {
    await admin.close()
  }
  const dir = mkdtempSync(join(tmpdir(), 'multilane-crash-'))
  const logs: string[] = []
  const children: ChildLog[] = []
  const perChild = Math.floor(o.records / (o.kills + 1))
  try {
    let log = join(dir, 'child-0.log')
    logs.push(log)
    let child = spawnChild(bootstrap, topic, group, log, o)
    // Produce once the first child owns the partitions: its start is not part of the measurement.
    while (!readLog(log).assigned.length) {
      if (child.exitCode !== null)
        throw new Error(`the consumer exited with code ${child.exitCode} before joining`)
      await sleep(50)
    }
    const produced = { value: false }
    const producing = produce(bootstrap, topic, o, produced)
    producing.catch(() => {})
    for (let k = 0; k < o.kills; k++) {
      while (countStarts(log) < perChild) {
        if (child.exitCode !== null) throw new Error(`the consumer exited with code ${child.exitCode}`)
        await sleep(20)
      }
      child.kill('SIGKILL')
      const killedAt = Date.now()
      await exited(child)
      children.push({ ...readLog(log), killedAt, endedAt: killedAt })
      log = join(dir, `child-${k + 1}.log`)
      logs.push(log)
      child = spawnChild(bootstrap, topic, group, log, o)
    }
    const seconds = await producing
    // The last child runs until every record was handled at least once.
    const seen = new Set<string>()
    for (const c of children) for (const s of c.starts) seen.add(s.id)
    for (;;) {
      const last = readLog(log)
      const all = new Set(seen)
      for (const s of last.starts) all.add(s.id)
      if (all.size >= o.records) break
      if (child.exitCode !== null) throw new Error(`the consumer exited with code ${child.exitCode}`)
      await sleep(200)
    }
    child.kill('SIGTERM')
    await exited(child)
    children.push({ ...readLog(log), endedAt: Date.now() })
    return report(o, children, seconds)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function report(o: Options, children: ChildLog[], producedSeconds: number): string {
  // Each duplicate start is charged to the child that started the record before.
  const owner = new Map<string, number>()
  const duplicates = children.map(() => 0)
  let total = 0
  children.forEach((c, i) => {
    for (const s of c.starts) {
      total++
      const before = owner.get(s.id)
      if (before !== undefined) duplicates[before]!++
      owner.set(s.id, i)
    }
  })
  const lost = o.records - owner.size
  const rows: string[] = []
  let commits = 0
  let activeSeconds = 0
  children.forEach((c, i) => {
    const from = c.assigned[0]
    if (from !== undefined) {
      activeSeconds += (c.endedAt - from) / 1000
      commits += c.commits.length
    }
    if (c.killedAt === undefined) return
    const lastSecond = c.starts.filter((s) => s.t > c.killedAt! - 1000 && s.t <= c.killedAt!).length
    rows.push(
      `| ${i + 1} | ${duplicates[i]} | ${lastSecond} | ${o.capacity + Math.round(0.2 * lastSecond)} | ${c.commits.length} |`,
    )
  })
  const kills = children.filter((c) => c.killedAt !== undefined).length
  const killed = duplicates.slice(0, kills).reduce((a, b) => a + b, 0)
  return (
    `${o.label}: ${o.records} records at ${o.rate}/s (produced in ${producedSeconds.toFixed(1)} s), ` +
    `${o.partitions} partitions, capacity ${o.capacity}, handlers 1–${o.workMs} ms, ` +
    `commitAfterRecords ${o.commitAfterRecords ?? 'default'}, ${kills} SIGKILLs\n\n` +
    '| kill | duplicates | handled in the last second (records/s) | bound: capacity + 200 ms of that | commits of the killed child |\n' +
    '|---:|---:|---:|---:|---:|\n' +
    `${rows.join('\n')}\n\n` +
    `lost ${lost}; handler starts ${total}; duplicates ${killed} (${Math.round(killed / kills)} per kill; ` +
    `target per kill at ${o.rate}/s: ≤ ${o.capacity + Math.round(0.2 * o.rate)}); ` +
    `commits ${commits} in ${activeSeconds.toFixed(1)} s of consumers with partitions = ` +
    `${(commits / activeSeconds).toFixed(1)} commits/s\n`
  )
}

await runCli('crash-duplicates', FLAGS, process.argv.slice(2), async (flags) => {
  const commitAfter = flags.get('commit-after-records')
  const src = stringFlag(flags, 'src')
  const o: Options = {
    records: intFlag(flags, 'records', 60_000),
    rate: intFlag(flags, 'rate', 10_000),
    kills: intFlag(flags, 'kills', 3),
    capacity: intFlag(flags, 'capacity', 100),
    workMs: intFlag(flags, 'work-ms', 4),
    partitions: intFlag(flags, 'partitions', 6),
    commitAfterRecords: typeof commitAfter === 'number' ? commitAfter : undefined,
    src,
    label: stringFlag(flags, 'label') ?? src ?? 'this',
  }
  const broker = await ensureBroker((line) => process.stderr.write(`${line}\n`))
  process.stdout.write(await measure(broker.bootstrap, o))
  return 0
})
