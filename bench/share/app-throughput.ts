// App-level no-op throughput on one preloaded 1-partition topic, side by side in one run:
// `app.consumerGroup` (one member: a partition has one owner) against `app.shareGroup` with 1, 2
// and 4 members, and the bare engine (`ShareConsumer`, one member) to show what the processing
// runtime costs on top of it. Every member is its own process (bench/share/app-member.ts) in a
// fresh group; all join, then are released at once, and the clock runs from that release to the
// last record handled. Rounds rotate the order; figures are medians.
//
//   node_modules/.bin/node bench/share/app-throughput.ts [--records N] [--bytes N] [--repeat N]
//                                                       [--only consumer,share1,share2,share4,engine]
//                                                       [--busy-us US]
import { type ChildProcess, fork } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { configureShareGroup, describeShareGroup } from '../../src/index.ts'
import { ensureBroker } from '../throughput/broker.ts'
import { intFlag, listFlag, runCli, UsageError } from '../throughput/flags.ts'
import { TOPIC_FLAGS, topicParams } from '../throughput/params.ts'
import { preloadTopic } from '../throughput/preload.ts'
import { MEMBER_CONFIG } from './member-config.ts'

const log = (line: string) => process.stderr.write(`${line}\n`)

interface Setup {
  name: string
  label: string
  mode: 'consumer' | 'share' | 'engine'
  members: number
}

const SETUPS: Setup[] = [
  { name: 'consumer', label: '`app.consumerGroup`, 1 member', mode: 'consumer', members: 1 },
  { name: 'share1', label: '`app.shareGroup`, 1 member', mode: 'share', members: 1 },
  { name: 'share2', label: '`app.shareGroup`, 2 members', mode: 'share', members: 2 },
  { name: 'share4', label: '`app.shareGroup`, 4 members', mode: 'share', members: 4 },
  { name: 'engine', label: 'engine `ShareConsumer`, 1 member (no runtime)', mode: 'engine', members: 1 },
]

type FromChild =
  | { type: 'ready' }
  | { type: 'count'; count: number }
  | { type: 'done'; count: number; lastAt: number; failed: number }

interface Member {
  child: ChildProcess
  ready: Promise<void>
  count: number
  done: Promise<{ count: number; lastAt: number; failed: number }>
}

function spawnMember(
  mode: Setup['mode'],
  bootstrap: string[],
  topic: string,
  group: string,
  busyUs: number,
): Member {
  const child = fork(
    join(import.meta.dirname, 'app-member.ts'),
    [
      ...['--mode', mode, '--bootstrap', bootstrap.join(','), '--topic', topic, '--group', group],
      ...['--busy-us', String(busyUs)],
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  let ready!: () => void
  let done!: (r: { count: number; lastAt: number; failed: number }) => void
  const member: Member = {
    child,
    ready: new Promise<void>((resolve) => {
      ready = resolve
    }),
    count: 0,
    done: new Promise((resolve, reject) => {
      done = resolve
      child.once('exit', (code) => reject(new Error(`${mode} member exited with ${code} before reporting`)))
    }),
  }
  member.done.catch(() => {})
  child.on('message', (m: FromChild) => {
    if (m.type === 'ready') ready()
    else if (m.type === 'count') member.count = m.count
    else if (m.type === 'done') done(m)
  })
  return member
}

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function runSetup(
  setup: Setup,
  bootstrap: string[],
  topic: string,
  records: number,
  busyUs: number,
): Promise<number> {
  const group = `bench-share-app-${setup.name}-${Date.now().toString(36)}`
  if (setup.mode !== 'consumer') {
    await configureShareGroup({ bootstrap, clientId: 'bench-share-app' }, group, {
      autoOffsetReset: 'earliest',
    })
  }
  const members = Array.from({ length: setup.members }, () =>
    spawnMember(setup.mode, bootstrap, topic, group, busyUs),
  )
  try {
    let timer: NodeJS.Timeout | undefined
    const joined = await Promise.race([
      Promise.all(members.map((m) => m.ready)).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), 60_000)
      }),
    ])
    clearTimeout(timer)
    if (!joined) throw new Error(`${setup.name}: members not assigned within 60 s`)
    const goAt = now()
    for (const m of members) m.child.send({ type: 'go' })
    const deadline = Date.now() + 600_000
    while (members.reduce((n, m) => n + m.count, 0) < records) {
      if (Date.now() > deadline) throw new Error(`${setup.name}: not done in 600 s`)
      await sleep(20)
    }
    for (const m of members) m.child.send({ type: 'stop' })
    const results = await Promise.all(members.map((m) => m.done))
    const total = results.reduce((n, r) => n + r.count, 0)
    const failed = results.reduce((n, r) => n + r.failed, 0)
    if (total !== records)
      throw new Error(`${setup.name}: ${total} records handled, expected exactly ${records}`)
    if (failed > 0) throw new Error(`${setup.name}: ${failed} errors or failed acknowledgements`)
    if (setup.mode !== 'consumer') {
      // Every record accepted on the broker, not only handled.
      const d = await describeShareGroup({ bootstrap, clientId: 'bench-share-app' }, group)
      const lags = d.partitions.map((p) => p.lag)
      if (lags.length === 0 || lags.some((lag) => lag !== 0))
        throw new Error(`${setup.name}: share group lag ${lags.join(',') || 'unknown'} after the run`)
    }
    const ms = Math.max(...results.map((r) => r.lastAt)) - goAt
    const split = results.map((r) => r.count).join('+')
    log(
      `  ${setup.name}: ${Math.round((records / ms) * 1000)} records/s (${Math.round(ms)} ms; per member ${split})`,
    )
    return (records / ms) * 1000
  } finally {
    for (const m of members) if (m.child.exitCode === null) m.child.kill('SIGKILL')
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

await runCli(
  'bench/share/app-throughput.ts',
  {
    ...TOPIC_FLAGS,
    repeat: { kind: 'int', min: 1, max: 50, description: 'rounds, each running every setup (default 3)' },
    only: {
      kind: 'list',
      choices: SETUPS.map((s) => s.name),
      description: `setups to run (default all: ${SETUPS.map((s) => s.name).join(',')})`,
    },
    'busy-us': {
      kind: 'int',
      min: 0,
      max: 1_000_000,
      description: 'CPU time each handler burns per record, synchronously, in µs (default 0: no-op)',
    },
  },
  process.argv.slice(2),
  async (flags) => {
    const params = topicParams(flags)
    if (!flags.has('records')) params.records = 200_000
    if (!flags.has('partitions')) params.partitions = 1
    if (params.partitions !== 1) throw new UsageError('--partitions: this comparison is about one partition')
    const repeat = intFlag(flags, 'repeat', 3)
    const busyUs = intFlag(flags, 'busy-us', 0)
    const only = listFlag(flags, 'only')
    const setups = only ? SETUPS.filter((s) => only.includes(s.name)) : SETUPS
    const unknown = only?.filter((n) => !SETUPS.some((s) => s.name === n)) ?? []
    if (unknown.length > 0 || setups.length === 0)
      throw new UsageError(`--only: unknown setup ${unknown.join(',')}`)
    const broker = await ensureBroker(log)
    const { topic } = await preloadTopic(broker.bootstrap, params, log)
    log(
      `machine: ${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}; topic ${topic}; ${repeat} round(s)`,
    )
    const samples = new Map<string, number[]>(setups.map((s) => [s.name, []]))
    for (let round = 0; round < repeat; round++) {
      // Rotate the order, so no setup always runs first (or last) in a round.
      const order = setups.map((_, i) => setups[(i + round) % setups.length]!)
      log(`round ${round + 1}: ${order.map((s) => s.name).join(', ')}`)
      for (const setup of order)
        samples.get(setup.name)!.push(await runSetup(setup, broker.bootstrap, topic, params.records, busyUs))
    }
    const medians = new Map([...samples].map(([name, values]) => [name, median(values)]))
    const base = medians.get('consumer')
    const share1 = medians.get('share1')
    const k = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)))
    const rows = setups.map((s) => {
      const m = medians.get(s.name)!
      return `| ${s.label} | ${Math.round(m)} | ${samples.get(s.name)!.map(k).join(', ')} | ${base ? `${(m / base).toFixed(2)}×` : '–'} | ${share1 ? `${(m / share1).toFixed(2)}×` : '–'} |`
    })
    process.stdout.write(
      [
        `${busyUs > 0 ? `CPU-bound (${busyUs} µs busy per record)` : 'no-op'} throughput, ${params.records} records of ${params.bytes} B, 1 partition, each member its own process, ` +
          `processing ${JSON.stringify(MEMBER_CONFIG)}, from the release of the joined members to the last record, median of ${repeat}:`,
        '',
        '| setup | records/s (median) | samples | ÷ consumer group | ÷ 1 share member |',
        '|---|---:|---|---:|---:|',
        ...rows,
        '',
      ].join('\n'),
    )
    return 0
  },
)
