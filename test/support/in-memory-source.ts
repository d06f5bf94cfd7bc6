// An in-memory RecordSource (multilane's own interface, no broker) for deterministic runtime
// tests: the test decides when partitions are assigned, revoked, reset or lost, and what
// records exist; the runtime under test cannot tell the difference from the engine.
import { type TakeablePartition, takeFairly } from '../../src/engine/fair-take.ts'
import type {
  AssignedPartition,
  ConsumerRecord,
  IntakeLimit,
  PartitionRecords,
  RevokeReason,
  TopicPartition,
} from '../../src/engine/types.ts'
import { partitionKey } from '../../src/engine/types.ts'
import { WakeSignal } from '../../src/engine/wake-signal.ts'
import type { RecordSource, SourceHooks, SourcePartitionStats } from '../../src/processing/record-source.ts'

class MemoryPartition implements TakeablePartition {
  readonly topic: string
  readonly partition: number
  readonly key: string
  /** The log: records[i] has offset i. */
  readonly log: ConsumerRecord[]
  position: number
  paused = false
  refused = false

  constructor(topic: string, partition: number, log: ConsumerRecord[], position: number) {
    this.topic = topic
    this.partition = partition
    this.key = partitionKey(topic, partition)
    this.log = log
    this.position = position
  }

  available(): number {
    return this.paused ? 0 : Math.max(0, this.log.length - this.position)
  }

  take(n: number): ConsumerRecord[] {
    const records = this.log.slice(this.position, this.position + n)
    this.position += records.length
    return records
  }

  setRefused(refused: boolean): void {
    this.refused = refused
  }
}

export interface InMemorySourceOptions {
  /** What `start()` assigns (default: nothing; call `assign`). */
  initial?: AssignedPartition[]
}

/** A record source over in-memory logs (offset = index), steered by the test. */
export class InMemorySource implements RecordSource {
  readonly hooks: SourceHooks
  readonly #logs = new Map<string, ConsumerRecord[]>()
  readonly #assigned = new Map<string, MemoryPartition>()
  readonly #available = new WakeSignal()
  readonly #initial: AssignedPartition[]
  /** Records handed out per partition key (for fairness assertions). */
  readonly handed = new Map<string, number>()
  closed = false
  /** takeRecords calls so far (a loop that spins shows up here). */
  takes = 0
  #rotation = 0

  constructor(hooks: SourceHooks, options: InMemorySourceOptions = {}) {
    this.hooks = hooks
    this.#initial = options.initial ?? []
  }

  /** Appends `count` records (key `k<offset % keys>`) to a partition's log. */
  append(topic: string, partition: number, count: number, keys = 100): void {
    const key = partitionKey(topic, partition)
    const log = this.#logs.get(key) ?? []
    this.#logs.set(key, log)
    for (let i = 0; i < count; i++) {
      const offset = log.length
      log.push({
        topic,
        partition,
        offset,
        timestamp: Date.now(),
        key: Buffer.from(`k${offset % keys}`),
        value: Buffer.from(`v${offset}`),
        headers: [],
        leaderEpoch: 0,
      })
    }
    this.#available.notify()
  }

  async assign(partitions: ReadonlyArray<TopicPartition & { position?: number }>): Promise<void> {
    const assigned: AssignedPartition[] = partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      position: p.position ?? 0,
      committed: null,
    }))
    await this.hooks.onAssigned(assigned)
    for (const p of assigned) {
      const key = partitionKey(p.topic, p.partition)
      const log = this.#logs.get(key) ?? []
      this.#logs.set(key, log)
      this.#assigned.set(key, new MemoryPartition(p.topic, p.partition, log, p.position))
    }
    this.#available.notify()
  }

  /** Stops handing out the partitions, then awaits the runtime's revoke hook. */
  revoke(partitions: readonly TopicPartition[], reason: RevokeReason): Promise<void> {
    for (const p of partitions) this.#assigned.delete(partitionKey(p.topic, p.partition))
    return this.hooks.onRevoked([...partitions], reason)
  }

  /** Moves a partition's position as an offset reset would, telling the runtime first. */
  reset(topic: string, partition: number, to: number): void {
    const p = this.#assigned.get(partitionKey(topic, partition))!
    const from = p.position
    p.position = to
    this.hooks.onPositionReset({ topic, partition, from, to, reason: 'offset_reset', policy: 'earliest' })
    this.#available.notify()
  }

  position(topic: string, partition: number): number | undefined {
    return this.#assigned.get(partitionKey(topic, partition))?.position
  }

  // ── RecordSource ──────────────────────────────────────────────────────────────────────

  async start(): Promise<void> {
    if (this.#initial.length > 0) await this.assign(this.#initial)
  }

  takeRecords(max: number, limit: IntakeLimit): PartitionRecords[] {
    this.takes++
    const all = [...this.#assigned.values()]
    const start = all.length === 0 ? 0 : this.#rotation++ % all.length
    const ordered = [...all.slice(start), ...all.slice(0, start)]
    const taken = takeFairly(ordered, max, limit)
    const out: PartitionRecords[] = []
    for (const [p, records] of taken) {
      this.handed.set(p.key, (this.handed.get(p.key) ?? 0) + records.length)
      out.push({ topic: p.topic, partition: p.partition, records, nextOffset: p.position })
    }
    return out
  }

  async waitForRecords(timeoutMs: number): Promise<void> {
    if (!this.closed && [...this.#assigned.values()].some((p) => !p.refused && p.available() > 0)) return
    await this.#available.wait(timeoutMs)
  }

  interruptWait(): void {
    this.#available.notify()
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const state = this.#assigned.get(partitionKey(p.topic, p.partition))
      if (state) state.paused = true
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const state = this.#assigned.get(partitionKey(p.topic, p.partition))
      if (state) state.paused = false
    }
    this.#available.notify()
  }

  seek(partition: TopicPartition, offset: number): void {
    const state = this.#assigned.get(partitionKey(partition.topic, partition.partition))
    if (state) state.position = offset
    this.#available.notify()
  }

  stats(): SourcePartitionStats[] {
    return [...this.#assigned.values()].map((p) => ({
      topic: p.topic,
      partition: p.partition,
      lag: p.log.length - p.position,
      buffered: p.log.length - p.position,
      paused: p.paused,
    }))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const owned = [...this.#assigned.values()].map((p) => ({ topic: p.topic, partition: p.partition }))
    if (owned.length > 0) await this.revoke(owned, 'closing')
  }
}
