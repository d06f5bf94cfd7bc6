// One measured multilane process of the segments benchmark (run by bench/segments/run.ts).
//   node bench/segments/member.ts '<MemberSpec as JSON>'
// Runs an app over a preloaded topic (bench/segments/topics.ts) — a plain group or a segmented
// one with the given placement — and prints one JSON line (MemberResult) once every record it
// must handle was handled (and, when it filters, every record of the topic passed its filter).
// With `gate`, it prints READY at its first handler call and holds every handler until a line
// GO arrives on stdin: several processes then start the measured work together.
import { createInterface } from 'node:readline'
import {
  type ConsumedRecord,
  createApp,
  defaultSegmentReducer,
  GroupConsumer,
  json,
  type Ordering,
  raw,
} from '../../src/index.ts'
import { type TopicShape, userOf } from './topics.ts'

export interface MemberSpec {
  /**
   * The bare engine instead of an app: a GroupConsumer taking up to 10,000 records at a time and
   * counting them (bench/throughput/runners/multilane-engine.ts, with CPU time measured).
   */
  engine?: boolean
  bootstrap: string[]
  topic: string
  shape: TopicShape
  group: string
  /** Segment count; 1 runs a plain group. */
  count: number
  /** Segments this process runs (default: all). */
  segments?: number[]
  /**
   * key: the key bytes; keyText: the key as text; header: header `user` as text; headerBytes: its
   * value bytes, found without decoding; payload: the JSON field `user`.
   */
  partitioner: 'key' | 'keyText' | 'header' | 'headerBytes' | 'payload'
  ordering: Ordering
  /** Key ordering with virtual partitions by header `user` (8 lanes). */
  virtualPartitions?: boolean
  capacity: number
  /** Busy-loop microseconds per record (0: a no-op handler). */
  workUs: number
  gate: boolean
}

export interface MemberResult {
  /** Records the handlers ran. */
  handled: number
  /** Records that passed a segment filter (every segment reads every record). */
  filtered: number
  /** From the first record seen (or GO) to the last one done. */
  ms: number
  /** From starting the app to the last record done. */
  msIncludingJoin: number
  /** CPU time of the process (user + system) over `ms`. */
  cpuMs: number
  pid: number
}

const USER = Buffer.from('user')

const PARTITIONERS: Record<MemberSpec['partitioner'], (r: ConsumedRecord<unknown>) => unknown> = {
  key: (r) => r.key,
  keyText: (r) => r.keyString,
  header: (r) => r.headers.get('user'),
  headerBytes: (r) => {
    const headers = r.raw.headers
    for (let i = headers.length - 1; i >= 0; i--) {
      const [name, value] = headers[i]!
      if (name?.equals(USER)) return value
    }
    return undefined
  },
  payload: (r) => (r.payload as { user: string }).user,
}

/** How many records of the topic this process handles: those routed to its segments. */
function expectedHandled(spec: MemberSpec): number {
  if (spec.count <= 1) return spec.shape.records
  const mine = new Set(spec.segments ?? [...Array(spec.count).keys()])
  const perUser = new Map<string, boolean>()
  let n = 0
  for (let i = 0; i < spec.shape.records; i++) {
    const user = userOf(spec.shape, i)
    let keep = perUser.get(user)
    if (keep === undefined) {
      keep = mine.has(defaultSegmentReducer(user, spec.count))
      perUser.set(user, keep)
    }
    if (keep) n++
  }
  return n
}

async function engine(spec: MemberSpec): Promise<MemberResult> {
  const consumer = new GroupConsumer({
    bootstrap: spec.bootstrap,
    clientId: 'bench-segments-engine',
    groupId: spec.group,
    topics: [spec.topic],
    autoOffsetReset: 'earliest',
  })
  const startedAt = performance.now()
  let firstAt = 0
  let cpuAt = process.cpuUsage()
  let handled = 0
  try {
    await consumer.start()
    while (handled < spec.shape.records) {
      const batches = consumer.takeRecords(10_000)
      if (batches.length === 0) {
        await consumer.waitForRecords()
        continue
      }
      if (firstAt === 0) {
        firstAt = performance.now()
        cpuAt = process.cpuUsage()
      }
      for (const batch of batches) handled += batch.records.length
    }
    const endAt = performance.now()
    const cpu = process.cpuUsage(cpuAt)
    return {
      handled,
      filtered: 0,
      ms: endAt - firstAt,
      msIncludingJoin: endAt - startedAt,
      cpuMs: (cpu.user + cpu.system) / 1000,
      pid: process.pid,
    }
  } finally {
    await consumer.close()
  }
}

async function main(spec: MemberSpec): Promise<MemberResult> {
  const expected = expectedHandled(spec)
  const members = spec.count <= 1 ? 1 : (spec.segments?.length ?? spec.count)
  const expectedFiltered = spec.count <= 1 ? 0 : spec.shape.records * members
  let handled = 0
  let filtered = 0
  let firstAt = 0
  let cpuAt = process.cpuUsage()
  let finish!: () => void
  const done = new Promise<void>((resolve) => (finish = resolve))
  const check = () => {
    if (handled >= expected && filtered >= expectedFiltered) finish()
  }
  const seen = () => {
    if (firstAt === 0 && !spec.gate) {
      firstAt = performance.now()
      cpuAt = process.cpuUsage()
    }
  }

  let open = !spec.gate
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let announced = false
  if (spec.gate) {
    createInterface({ input: process.stdin }).on('line', (line) => {
      if (line.trim() !== 'GO') return
      firstAt = performance.now()
      cpuAt = process.cpuUsage()
      open = true
      release()
    })
  }

  const partition = PARTITIONERS[spec.partitioner]
  const workMs = spec.workUs / 1000
  const app = createApp({
    kafka: { bootstrap: spec.bootstrap, clientId: 'bench-segments' },
    logger: false,
    statisticsIntervalMs: 0,
  })
  app.consumerGroup(spec.group, (g) => {
    g.options({ autoOffsetReset: 'earliest' })
    if (spec.count > 1) {
      g.parallelSegments({
        count: spec.count,
        partitioner: (r) => {
          seen()
          filtered++
          if (filtered >= expectedFiltered) check()
          return partition(r)
        },
      })
    }
    g.topic(spec.topic, {
      deserializer: spec.partitioner === 'payload' ? json() : raw(),
      processing: {
        style: 'continuous',
        ordering: spec.ordering,
        capacity: spec.capacity,
        commitIntervalMs: 1000,
      },
      ...(spec.virtualPartitions
        ? {
            virtualPartitions: {
              partitioner: (r: ConsumedRecord<unknown>) => r.headers.get('user'),
              maxPartitions: 8,
            },
          }
        : {}),
      handler: (_record) => {
        seen()
        if (!open) {
          if (!announced) {
            announced = true
            process.stdout.write('READY\n')
          }
          return gate.then(() => work())
        }
        work()
        return undefined
      },
    })
  })
  const work = () => {
    if (workMs > 0) {
      const until = performance.now() + workMs
      while (performance.now() < until) {
        // CPU-bound work
      }
    }
    handled++
    if (handled >= expected) check()
  }

  const startedAt = performance.now()
  await app.start(spec.segments ? { segments: spec.segments } : {})
  await done
  const endAt = performance.now()
  const cpu = process.cpuUsage(cpuAt)
  await app.stop()
  return {
    handled,
    filtered,
    ms: endAt - firstAt,
    msIncludingJoin: endAt - startedAt,
    cpuMs: (cpu.user + cpu.system) / 1000,
    pid: process.pid,
  }
}

const spec = JSON.parse(process.argv[2] ?? '') as MemberSpec
const watchdog = setTimeout(() => {
  process.stderr.write('member: no result after 600 s\n')
  process.exit(1)
}, 600_000)
watchdog.unref()
const result = await (spec.engine ? engine(spec) : main(spec))
process.stdout.write(`${JSON.stringify(result)}\n`)
process.exit(0)
