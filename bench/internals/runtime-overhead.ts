// The processing runtime's own cost per record, without a broker: one consumer-group member whose
// record source makes records on demand (one object per record, as the engine's fetcher does,
// keys from a pool of 1,000, one shared 1 KiB value), a no-op handler, offset commits into a
// map. Prints ns per record (wall time from assignment to the last handler call, GC included)
// per style and ordering. What the Kafka benchmark (`npm run bench:processing`) cannot show above
// its noise: there the broker shares the machine's cores and each run varies by ±30 %.
//
//   node_modules/.bin/node bench/internals/runtime-overhead.ts [--records N] [--partitions P] [--repeat R]
//                                                              [--only continuous-unordered,blocking-unordered,…]
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import type { ConsumerRecord, IntakeLimit, PartitionRecords } from '../../src/engine/types.ts'
import { partitionKey } from '../../src/engine/types.ts'
import { WakeSignal } from '../../src/engine/wake-signal.ts'
import { EventBus } from '../../src/instrumentation/events.ts'
import { OffsetCommitProgress } from '../../src/processing/consumer-group/offset-commit-progress.ts'
import { raw } from '../../src/processing/deserializers.ts'
import { RetryThenDeadLetter } from '../../src/processing/failure-policy.ts'
import { ProcessingRuntime } from '../../src/processing/processing-runtime.ts'
import type { ConsumedRecord } from '../../src/processing/record.ts'
import type { RecordSource, SourceHooks, SourcePartitionStats } from '../../src/processing/record-source.ts'
import { defaultLaneReducer } from '../../src/processing/routing/reducers.ts'
import type { ProcessingSettings } from '../../src/processing/runtime-input.ts'
import { segmentFilter } from '../../src/segments/routing.ts'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '6' },
    repeat: { type: 'string', default: '5' },
    only: { type: 'string' },
  },
})
const records = positiveInt('records', values.records)
const partitions = positiveInt('partitions', values.partitions)
const repeat = positiveInt('repeat', values.repeat)

function positiveInt(flag: string, text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer, got "${text}"`)
  return n
}

const TOPIC = 't'
const KEYS = Array.from({ length: 1000 }, (_, i) => Buffer.from(`key-${i}`))
const VALUE = Buffer.alloc(1024, 1)

/** A record as a source hands it over: a class, as the engine's is (see fetched-records.ts). */
class GeneratedRecord implements ConsumerRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp = 0
  readonly key: Buffer
  readonly value = VALUE
  readonly headers: Array<[Buffer | null, Buffer | null]> = []
  readonly leaderEpoch = 0

  constructor(topic: string, partition: number, offset: number) {
    this.topic = topic
    this.partition = partition
    this.offset = offset
    this.key = KEYS[offset % KEYS.length]!
  }
}

/** Partitions of `per` records each, made when taken; assigned all at once at start. */
class GeneratedSource implements RecordSource {
  readonly #hooks: SourceHooks
  readonly #positions: number[]
  readonly #per: number
  readonly #available = new WakeSignal()
  #closed = false

  constructor(hooks: SourceHooks, partitions: number, per: number) {
    this.#hooks = hooks
    this.#positions = new Array<number>(partitions).fill(0)
    this.#per = per
  }

  async start(): Promise<void> {
    await this.#hooks.onAssigned(
      this.#positions.map((_, partition) => ({ topic: TOPIC, partition, position: 0, committed: null })),
    )
  }

  takeRecords(max: number, limit: IntakeLimit): PartitionRecords[] {
    const out: PartitionRecords[] = []
    const share = Math.ceil(max / this.#positions.length)
    for (let p = 0; p < this.#positions.length && max > 0; p++) {
      const from = this.#positions[p]!
      const n = limit(partitionKey(TOPIC, p), Math.min(share, max, this.#per - from))
      if (n <= 0) continue
      const batch = new Array<GeneratedRecord>(n)
      for (let i = 0; i < n; i++) {
        batch[i] = new GeneratedRecord(TOPIC, p, from + i)
      }
      this.#positions[p] = from + n
      max -= n
      out.push({ topic: TOPIC, partition: p, records: batch, nextOffset: from + n })
    }
    return out
  }

  async waitForRecords(timeoutMs: number): Promise<void> {
    if (!this.#closed && this.#positions.some((x) => x < this.#per)) return
    await this.#available.wait(timeoutMs)
  }

  interruptWait(): void {
    this.#available.notify()
  }

  stats(): SourcePartitionStats[] {
    return []
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const all = this.#positions.map((_, partition) => ({ topic: TOPIC, partition }))
    await this.#hooks.onRevoked(all, 'closing')
  }
}

/** `segments`: the member is segment 0 of that many parallel segments, routing by key (its filter keeps about 1/n). */
type Setup = Pick<ProcessingSettings, 'style' | 'ordering'> & { segments?: number }
const ALL_SETUPS: readonly Setup[] = [
  { style: 'continuous', ordering: 'unordered' },
  { style: 'blocking', ordering: 'unordered' },
  { style: 'continuous', ordering: 'partition' },
  { style: 'continuous', ordering: 'key' },
  { style: 'continuous', ordering: 'unordered', segments: 4 },
]
const setupName = (s: Setup) => `${s.style}-${s.ordering}${s.segments ? `-segment-of-${s.segments}` : ''}`
const only = values.only?.split(',').map((x) => x.trim())
for (const name of only ?? []) {
  if (!ALL_SETUPS.some((s) => setupName(s) === name))
    throw new Error(`--only: unknown setup "${name}"; one of ${ALL_SETUPS.map(setupName).join(', ')}`)
}
const SETUPS = ALL_SETUPS.filter((s) => !only || only.includes(setupName(s)))

async function runOnce(setup: Setup): Promise<number> {
  const per = Math.ceil(records / partitions)
  const total = per * partitions
  let handled = 0
  let seen = 0
  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve
  })
  const group = { name: 'bench', segmentId: -1, segmentOrigin: 'bench' }
  const events = new EventBus()
  const fatal: Error[] = []
  const runtime = new ProcessingRuntime({
    member: {
      group,
      label: 'bench',
      topics: [
        {
          name: TOPIC,
          deserializer: raw(),
          virtualPartitions: { partitioner: (r) => r.key, reducer: defaultLaneReducer, maxPartitions: 16 },
          manualOffsets: false,
          handler: () => {
            if (++handled === total) resolveDone()
          },
          retries: {
            maxRetries: 0,
            backoff: { initialMs: 20, maxMs: 200, exponential: true },
            mode: 'local',
          },
          processing: {
            style: setup.style,
            ordering: setup.ordering,
            capacity: 1000,
            maxPollRecords: 1000,
            commitIntervalMs: 1000,
          },
        },
      ],
      revokeTimeoutMs: 5000,
      shutdownTimeoutMs: 5000,
      statisticsIntervalMs: 0,
    },
    events,
    logger: pino({ enabled: false }),
    progress: new OffsetCommitProgress({ consumerGroup: group.name, events, commit: async () => {} }),
    failurePolicy: (laneQueued) =>
      new RetryThenDeadLetter({
        group,
        events,
        deadLetters: {
          dispatch: async () => {
            throw new Error('the benchmark handler never fails')
          },
        },
        laneQueued,
      }),
    source: (hooks) => new GeneratedSource(hooks, partitions, per),
    ...(setup.segments
      ? {
          filter: ((keep) => (record: ConsumedRecord<unknown>) => {
            // Every record passes the filter once; the last one ends the run once handled.
            if (++seen === total) setImmediate(resolveDone)
            return keep(record)
          })(
            segmentFilter(
              0,
              { partitioner: (r) => r.key, reducer: defaultLaneReducer, count: setup.segments },
              () => {},
            ),
          ),
        }
      : {}),
    onFatal: (error) => fatal.push(error),
  })
  const startedAt = performance.now()
  await runtime.start()
  await done
  const ns = ((performance.now() - startedAt) * 1e6) / total
  await runtime.stop()
  if (fatal.length > 0) throw fatal[0]
  return ns
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const samples = new Map<Setup, number[]>(SETUPS.map((s) => [s, []]))
for (let round = 0; round < repeat; round++) {
  for (const setup of SETUPS) samples.get(setup)!.push(await runOnce(setup))
}
console.log(
  `\nruntime overhead: ${records.toLocaleString('en-US')} records, ${partitions} partitions, no-op handler, capacity 1000; ns per record, median of ${repeat}\n`,
)
console.log('| style | ordering | ns/record (median) | samples |')
console.log('|---|---|---:|---|')
for (const [setup, xs] of samples) {
  console.log(
    `| ${setup.style} | ${setup.ordering}${setup.segments ? `, segment 0 of ${setup.segments}` : ''} | ${median(xs).toFixed(0)} | ${xs.map((x) => x.toFixed(0)).join(', ')} |`,
  )
}
