// Rebalance pause for the members that keep their partitions: two members consume a 6-partition
// topic produced at a steady rate (one record per partition every --produce-every-ms, default
// 20 ms; handlers taking --handler-ms each, default 0, one at a time); a third member joins,
// then leaves. For each partition whose owner is the same member before and after the change (a
// "kept" partition), the longest gap between two records that member handled, from the change
// until the group settled plus 3 s, against the longest gap of a quiet window before the join;
// and whether the member gave the kept partition up meanwhile (an eager rejoin gives up all).
// Compares multilane's engine on the classic protocol (cooperative-sticky), multilane on KIP-848
// and KafkaJS 2.2.4 (eager), runs alternating between the clients. Prints every sample.
//
//   KAFKA_BOOTSTRAP_SERVERS=host:port node bench/classic/rebalance-pause.ts [--repeat N]
//       [--only multilane-classic,multilane-kip848,kafkajs] [--handler-ms N] [--produce-every-ms N]
// (without KAFKA_BOOTSTRAP_SERVERS: the local development broker, started if needed; KIP-848
// needs Kafka ≥ 4.0)
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin, Producer } from '@platformatic/kafka'
import { ensureBroker } from '../throughput/broker.ts'
import { type FlagSpec, type FlagValue, intFlag, listFlag, runCli } from '../throughput/flags.ts'
import { createMember, type PauseClient, type PauseMember } from './pause-members.ts'

const CLIENTS: readonly PauseClient[] = ['multilane-classic', 'multilane-kip848', 'kafkajs']
const PARTITIONS = 6
/** A kept partition "stopped" when its longest gap reached this (50 produce ticks). */
const STOPPED_MS = 1000
const SETTLE_EXTRA_MS = 3000
const BASELINE_MS = 5000

const FLAGS: Record<string, FlagSpec> = {
  repeat: { kind: 'int', min: 1, max: 20, description: 'runs per client, alternating (default 2)' },
  only: { kind: 'list', choices: CLIENTS, description: `clients to run (default ${CLIENTS.join(',')})` },
  'handler-ms': {
    kind: 'int',
    min: 0,
    max: 10_000,
    description: 'what handling one record takes (default 0)',
  },
  'produce-every-ms': {
    kind: 'int',
    min: 1,
    max: 10_000,
    description: 'one record per partition this often (default 20)',
  },
}

const log = (line: string) => process.stderr.write(`${line}\n`)

/** Handled-record times per partition, with the member that handled each. */
class Handled {
  readonly #times = new Map<number, Array<{ at: number; member: string }>>()
  add(partition: number, member: string): void {
    const list = this.#times.get(partition) ?? []
    if (list.length === 0) this.#times.set(partition, list)
    list.push({ at: performance.now(), member })
  }
  /** The longest gap between records `member` handled on `partition` within [from, to] (edges count). */
  maxGap(partition: number, member: string, from: number, to: number): number {
    const times = (this.#times.get(partition) ?? []).filter((t) => t.member === member).map((t) => t.at)
    let previous = from
    for (const at of times) if (at <= from) previous = at
    let longest = 0
    for (const at of times) {
      if (at <= from || at > to) continue
      longest = Math.max(longest, at - previous)
      previous = at
    }
    return Math.max(longest, to - previous)
  }
}

interface WindowResult {
  /** Partition → member, for the partitions kept through the change. */
  kept: Map<number, string>
  /** Partition → longest gap (ms). */
  gaps: Map<number, number>
  /** Kept partitions their member gave up (and took back) within the window. */
  givenUp: number[]
  ms: number
}

interface RunResult {
  client: PauseClient
  baselineMaxGap: number
  join: WindowResult
  leave: WindowResult
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

function owners(members: PauseMember[]): Map<number, string> {
  const out = new Map<number, string>()
  for (const m of members) for (const p of m.owned()) out.set(p, m.name)
  return out
}

function keptThrough(before: Map<number, string>, after: Map<number, string>, stayers: string[]) {
  const kept = new Map<number, string>()
  for (const [p, m] of before) if (stayers.includes(m) && after.get(p) === m) kept.set(p, m)
  return kept
}

/** Every member owns `shares[i]` partitions, together all of them. */
const settled = (members: PauseMember[], shares: number[]) =>
  members.every((m, i) => m.owned().length === shares[i]) &&
  new Set(members.flatMap((m) => m.owned())).size === PARTITIONS

async function runOnce(
  client: PauseClient,
  bootstrap: string[],
  topic: string,
  handlerMs: number,
): Promise<RunResult> {
  const handled = new Handled()
  const groupId = `bench-pause-${client}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
  const member = (name: string) =>
    createMember({
      client,
      name,
      bootstrap,
      groupId,
      topic,
      handlerMs,
      onRecord: (p, m) => handled.add(p, m),
    })
  const a = member('a')
  const b = member('b')
  const c = member('c')
  const started: PauseMember[] = []
  try {
    await a.start()
    started.push(a)
    await waitFor(() => settled([a], [6]), 'a owns 6')
    await b.start()
    started.push(b)
    await waitFor(() => settled([a, b], [3, 3]), 'a and b own 3 each')
    await sleep(2000)
    const baselineFrom = performance.now()
    await sleep(BASELINE_MS)
    const baselineTo = performance.now()
    const beforeJoin = owners([a, b])
    let baselineMaxGap = 0
    for (const [p, m] of beforeJoin)
      baselineMaxGap = Math.max(baselineMaxGap, handled.maxGap(p, m, baselineFrom, baselineTo))

    const joinFrom = performance.now()
    await c.start()
    started.push(c)
    await waitFor(() => settled([a, b, c], [2, 2, 2]), '2/2/2')
    await sleep(SETTLE_EXTRA_MS)
    const joinTo = performance.now()
    const afterJoin = owners([a, b, c])
    const join = window(handled, [a, b], keptThrough(beforeJoin, afterJoin, ['a', 'b']), joinFrom, joinTo)

    const leaveFrom = performance.now()
    started.pop()
    await c.stop()
    await waitFor(() => settled([a, b], [3, 3]), 'a and b own 3 each again')
    await sleep(SETTLE_EXTRA_MS)
    const leaveTo = performance.now()
    const kept = keptThrough(afterJoin, owners([a, b]), ['a', 'b'])
    const leave = window(handled, [a, b], kept, leaveFrom, leaveTo)
    return { client, baselineMaxGap, join, leave }
  } finally {
    for (const m of started.reverse()) await m.stop().catch(() => {})
  }
}

function window(
  handled: Handled,
  members: PauseMember[],
  kept: Map<number, string>,
  from: number,
  to: number,
): WindowResult {
  const gaps = new Map<number, number>()
  for (const [p, m] of kept) gaps.set(p, handled.maxGap(p, m, from, to))
  const givenUp = [...kept]
    .filter(([p, name]) =>
      members
        .find((m) => m.name === name)!
        .gaveUp.some((g) => g.at >= from && g.at <= to && g.partitions.includes(p)),
    )
    .map(([p]) => p)
  return { kept, gaps, givenUp, ms: to - from }
}

const ms = (n: number) => `${Math.round(n)} ms`

function describe(name: string, w: WindowResult): string {
  const gaps = [...w.gaps.values()]
  const stopped = gaps.filter((g) => g >= STOPPED_MS).length
  const detail = [...w.gaps].map(([p, g]) => `p${p}(${w.kept.get(p)}) ${ms(g)}`).join(', ')
  return (
    `${name}: ${w.kept.size} kept partitions, max gap ${gaps.length ? ms(Math.max(...gaps)) : '-'}, ` +
    `${stopped} with a gap ≥ ${STOPPED_MS} ms, ${w.givenUp.length} given up and taken back ` +
    `[${detail}] (window ${ms(w.ms)})`
  )
}

/** Produces one record per partition every `everyMs` until stopped. */
function steadyProducer(bootstrap: string[], topic: string, everyMs: number) {
  const producer = new Producer({ clientId: 'bench-pause-producer', bootstrapBrokers: bootstrap })
  let running = true
  let produced = 0
  const done = (async () => {
    const value = Buffer.alloc(100, 'x')
    let next = performance.now()
    while (running) {
      const messages = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, value }))
      await producer.send({ messages })
      produced += PARTITIONS
      next += everyMs
      await sleep(Math.max(0, next - performance.now()))
    }
  })()
  return {
    produced: () => produced,
    stop: async () => {
      running = false
      await done
      await producer.close()
    },
  }
}

async function main(flags: Map<string, FlagValue>): Promise<number> {
  const repeat = intFlag(flags, 'repeat', 2)
  const clients = (listFlag(flags, 'only') as PauseClient[] | undefined) ?? [...CLIENTS]
  const handlerMs = intFlag(flags, 'handler-ms', 0)
  const everyMs = intFlag(flags, 'produce-every-ms', 20)
  const broker = await ensureBroker(log)
  const topic = `bench-pause-${Date.now().toString(36)}`
  const admin = new Admin({ clientId: 'bench-pause-admin', bootstrapBrokers: broker.bootstrap })
  await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 })
  await waitForLeaders(admin, topic)
  const producer = steadyProducer(broker.bootstrap, topic, everyMs)
  const lines: string[] = [
    `one record per partition every ${everyMs} ms, handlers ${handlerMs} ms`,
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ]
  try {
    for (let round = 1; round <= repeat; round++) {
      for (const client of clients) {
        log(`round ${round}: ${client}…`)
        const r = await runOnce(client, broker.bootstrap, topic, handlerMs)
        const sample = [
          `round ${round} ${client}: baseline max gap ${ms(r.baselineMaxGap)}`,
          `  ${describe('c joins', r.join)}`,
          `  ${describe('c leaves', r.leave)}`,
        ]
        for (const line of sample) log(line)
        lines.push(...sample)
      }
    }
  } finally {
    await producer.stop()
    await admin.deleteTopics({ topics: [topic] }).catch(() => {})
    await admin.close()
  }
  lines.push(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}

async function waitForLeaders(admin: Admin, topic: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const t = (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)
    if (t && t.partitionsCount === PARTITIONS && t.partitions.every((p) => p.leader >= 0)) return
    await sleep(200)
  }
  throw new Error(`topic ${topic}: partitions have no leader after 60 s`)
}

await runCli('bench/classic/rebalance-pause.ts', FLAGS, process.argv.slice(2), main)
