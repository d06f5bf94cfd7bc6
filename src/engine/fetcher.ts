import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import * as fetchV17 from '../kafka/apis/fetch-v17.ts'
import type { KafkaCluster } from '../kafka/cluster.ts'
import { kafkaErrorName, STALE_LEADER } from '../kafka/protocol-errors.ts'
import type { RecordBatch } from '../kafka/records/batches.ts'
import { takeFairly } from './fair-take.ts'
import type { FetcherEvents, FetcherOptions } from './fetch-options.ts'
import { fetchRequest, readyToFetch } from './fetch-request.ts'
import { decodeRecords } from './fetched-records.ts'
import { LeaderTracker } from './leader-tracker.ts'
import { repairDivergence } from './log-divergence.ts'
import { isolationLevelCode, listOffsets } from './offset-resolver.ts'
import { type PartitionFetchStats, PartitionState, statsOf } from './partition-state.ts'
import type { IntakeLimit, PartitionRecords, PositionReset, TopicPartition } from './types.ts'
import { partitionKey } from './types.ts'
import { WakeSignal } from './wake-signal.ts'

export {
  type BufferLimits,
  DEFAULT_BUFFER_LIMITS,
  DEFAULT_FETCH_OPTIONS,
  type FetcherEvents,
  type FetcherOptions,
  type FetchOptions,
} from './fetch-options.ts'
export type { PartitionFetchStats } from './partition-state.ts'
export type { PositionReset } from './types.ts'

/**
 * Fetches the assigned partitions from their leaders: at most one Fetch in flight per leader,
 * positions per partition, per-partition pause/resume/seek, bounded buffers. Records are
 * handed over raw through `takeRecords`.
 */
export class Fetcher extends EventEmitter<FetcherEvents> {
  readonly #cluster: KafkaCluster
  readonly #options: FetcherOptions
  readonly #states = new Map<string, PartitionState>()
  #order: PartitionState[] = []
  #roundRobin = 0
  readonly #loops = new Map<number, { wake: WakeSignal; done: Promise<void> }>()
  readonly #recordsAvailable = new WakeSignal()
  #totalRecords = 0
  #totalBytes = 0
  #closed = false
  /** Leaders of the assigned partitions; refreshes back off while some leader is unknown. */
  readonly #leaders: LeaderTracker

  constructor(cluster: KafkaCluster, options: FetcherOptions) {
    super()
    this.#cluster = cluster
    this.#options = options
    this.#leaders = new LeaderTracker({
      refresh: () => this.#refreshLeaders(),
      failed: (error) => this.emit('fetch_error', { error }),
      // Fetch loops retry stale metadata themselves; with no loop yet (the first partitions had
      // no leader, or the refresh failed) the tracker's timer must.
      retriesOnItsOwn: () => this.#loops.size === 0,
    })
  }

  /** Starts fetching these partitions from the given positions. */
  async add(partitions: ReadonlyArray<TopicPartition & { position: number }>): Promise<void> {
    for (const p of partitions) {
      const state = new PartitionState(p.topic, p.partition, p.position)
      this.#states.set(state.key, state)
    }
    this.#order = [...this.#states.values()]
    // New partitions may have leaders the last refresh did not know: refresh now.
    await this.#leaders.refresh()
  }

  /** Stops fetching these partitions at once and drops their buffered records. */
  remove(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const state = this.#states.get(partitionKey(p.topic, p.partition))
      if (!state) continue
      this.#dropBuffer(state)
      this.#states.delete(state.key)
    }
    this.#order = [...this.#states.values()]
  }

  assigned(): TopicPartition[] {
    return this.#order.map((s) => ({ topic: s.topic, partition: s.partition }))
  }

  has(topic: string, partition: number): boolean {
    return this.#states.has(partitionKey(topic, partition))
  }

  /** The next offset that will be fetched (or taken from the buffer) for a partition. */
  position(topic: string, partition: number): number | undefined {
    return this.#states.get(partitionKey(topic, partition))?.consumerPosition()
  }

  /** Stops fetching a partition and withholds its buffered records until `resume`. */
  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const s = this.#states.get(partitionKey(p.topic, p.partition))
      if (s) s.paused = true
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const s = this.#states.get(partitionKey(p.topic, p.partition))
      if (!s?.paused) continue
      s.paused = false
      this.#wakeNode(s.leaderId)
      if (s.hasSomethingToHand()) this.#recordsAvailable.notify()
    }
  }

  isPaused(topic: string, partition: number): boolean {
    return this.#states.get(partitionKey(topic, partition))?.paused ?? false
  }

  /** Moves a partition's position; buffered records are dropped and an in-flight response ignored. */
  seek(topic: string, partition: number, offset: number): boolean {
    const s = this.#states.get(partitionKey(topic, partition))
    if (!s) return false
    this.#dropBuffer(s)
    s.reposition(offset)
    this.#wakeNode(s.leaderId)
    return true
  }

  /**
   * Takes up to `max` buffered records, spread evenly over the unpaused partitions that have
   * some (starting one partition further each call), each partition's share capped by
   * `limit`. A partition whose position passed gaps since its last take is reported too, with
   * its `nextOffset`, even when no record of it is taken.
   */
  takeRecords(max: number, limit?: IntakeLimit): PartitionRecords[] {
    const states = this.#order
    const n = states.length
    if (n === 0) return []
    const start = this.#roundRobin % n
    this.#roundRobin = (start + 1) % n
    const candidates: PartitionState[] = []
    for (let i = 0; i < n; i++) {
      const s = states[(start + i) % n]!
      if (!s.paused && s.hasSomethingToHand()) candidates.push(s)
    }
    const bytesBefore = candidates.map((s) => s.buffer.bytes)
    const taken = takeFairly(candidates, max, limit)
    const out: PartitionRecords[] = []
    candidates.forEach((s, i) => {
      const records = taken.get(s)
      const next = s.consumerPosition()
      if (!records && next <= s.handedUpTo) return
      s.handedUpTo = next
      if (records) {
        this.#totalRecords -= records.length
        this.#totalBytes -= bytesBefore[i]! - s.buffer.bytes
        this.#wakeNode(s.leaderId)
      }
      out.push({ topic: s.topic, partition: s.partition, records: records ?? [], nextOffset: next })
    })
    return out
  }

  /**
   * True when some unpaused partition has records (or passed gaps) to hand over, leaving out
   * partitions the last take's limit refused: a taker that cannot take them must not be woken
   * for them again and again.
   */
  hasRecords(): boolean {
    for (const s of this.#order) if (!s.paused && !s.refused && s.hasSomethingToHand()) return true
    return false
  }

  /**
   * Resolves when records may be available, on {@link interrupt}, or after `timeoutMs`. A
   * closed fetcher has none: it resolves after the timeout (at once without one), so a loop
   * over a closed fetcher sleeps instead of spinning.
   */
  async waitForRecords(timeoutMs?: number): Promise<void> {
    if (this.#closed) {
      if (timeoutMs !== undefined) await this.#recordsAvailable.wait(timeoutMs)
      return
    }
    if (this.hasRecords()) return
    await this.#recordsAvailable.wait(timeoutMs)
  }

  /** Wakes any `waitForRecords` caller (used on close). */
  interrupt(): void {
    this.#recordsAvailable.notify()
  }

  get closed(): boolean {
    return this.#closed
  }

  get bufferedRecords(): number {
    return this.#totalRecords
  }

  get bufferedBytes(): number {
    return this.#totalBytes
  }

  stats(): PartitionFetchStats[] {
    return this.#order.map(statsOf)
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#leaders.close()
    for (const loop of this.#loops.values()) loop.wake.notify()
    this.#recordsAvailable.notify()
    // A fetch in flight to a broker that does not answer would hold this up to the request
    // timeout; closing the connections (the caller's next step) ends it.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.#loops.values()].map((l) => l.done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 1000)
      }),
    ])
    clearTimeout(timer)
    for (const s of this.#states.values()) s.buffer.clear()
    this.#states.clear()
    this.#order = []
  }

  #dropBuffer(s: PartitionState): void {
    this.#totalRecords -= s.buffer.records
    this.#totalBytes -= s.buffer.bytes
    s.buffer.clear()
  }

  #wakeNode(nodeId: number): void {
    this.#loops.get(nodeId)?.wake.notify()
  }

  /**
   * Updates leaders of all assigned partitions and starts a fetch loop per leader; false when
   * some partition has no leader right now (the tracker asks again, with backoff).
   */
  async #refreshLeaders(): Promise<boolean> {
    const topics = [...new Set(this.#order.map((s) => s.topic))]
    if (topics.length === 0) return true
    const metadata = await this.#cluster.refreshMetadata(topics)
    let all = true
    for (const s of this.#states.values()) {
      const leader = metadata.get(s.topic)?.partitions[s.partition]
      s.topicId = metadata.get(s.topic)?.topicId ?? ''
      s.leaderId = leader?.nodeId ?? -1
      s.leaderEpoch = leader?.leaderEpoch ?? -1
      if (s.leaderId >= 0) this.#ensureLoop(s.leaderId)
      // No leader right now (e.g. a broker shutting down answered): ask again later, or the
      // partition would never be fetched again.
      else all = false
    }
    return all
  }

  #ensureLoop(nodeId: number): void {
    const existing = this.#loops.get(nodeId)
    if (existing) {
      existing.wake.notify()
      return
    }
    const wake = new WakeSignal()
    const entry = { wake, done: Promise.resolve() }
    this.#loops.set(nodeId, entry)
    entry.done = this.#runLoop(nodeId, wake)
  }

  async #runLoop(nodeId: number, wake: WakeSignal): Promise<void> {
    let backoffMs = 100
    while (!this.#closed) {
      try {
        backoffMs = await this.#loopOnce(nodeId, wake, backoffMs)
      } catch (error) {
        // A bug (e.g. an undecodable response) must not end this leader's loop for good.
        this.emit('fetch_error', { error: error as Error, nodeId })
        await sleep(backoffMs)
        backoffMs = Math.min(backoffMs * 2, 2000)
      }
    }
  }

  /** One turn of a leader's loop; returns the backoff for the next failure. */
  async #loopOnce(nodeId: number, wake: WakeSignal, backoffMs: number): Promise<number> {
    {
      if (this.#leaders.stale) await this.#leaders.maybeRefresh()
      const now = Date.now()
      const ready = readyToFetch(this.#order, nodeId, now, this.#options.buffer, {
        records: this.#totalRecords,
        bytes: this.#totalBytes,
      })
      if (ready.length === 0) {
        // Nothing to fetch here: wait for resume/take/seek/assign, or re-check retry timers
        // and (while some leader is unknown) the next metadata refresh.
        await wake.wait(this.#leaders.stale ? Math.max(50, this.#leaders.nextRefreshAt - now) : 1000)
        return backoffMs
      }
      const ok = await this.#fetchOnce(nodeId, ready)
      if (ok) return 100
      await sleep(backoffMs)
      return Math.min(backoffMs * 2, 2000)
    }
  }

  /** One Fetch to one leader. Returns false when the request itself failed. */
  async #fetchOnce(nodeId: number, partitions: PartitionState[]): Promise<boolean> {
    const { fetch } = this.#options
    const { topics, sent, maxBytes } = fetchRequest(partitions, this.#options, this.#totalBytes)
    for (const s of partitions) s.inFlight = true
    let response: fetchV17.FetchResponse
    try {
      const connection = await this.#cluster.connectionTo(nodeId, 'data')
      response = await fetchV17.api.async(
        connection,
        fetch.maxWaitMs,
        fetch.minBytes,
        maxBytes,
        isolationLevelCode(this.#options.isolationLevel),
        0,
        -1,
        topics,
        [],
        '',
      )
    } catch (error) {
      // Kafka error codes stay in the response (top-level and per partition, handled below):
      // what is thrown is a failed request or an undecodable response.
      for (const { state } of sent.values()) state.inFlight = false
      if (!this.#closed) {
        this.#leaders.markStale()
        this.emit('fetch_error', { error: error as Error, nodeId })
      }
      return false
    }
    for (const { state } of sent.values()) state.inFlight = false
    for (const topic of response.responses) {
      for (const p of topic.partitions) {
        const entry = sent.get(`${topic.topicId}:${p.partitionIndex}`)
        if (!entry) continue
        const { state, generation, offset } = entry
        // Revoked, re-added or seeked while the request was out: the answer is stale.
        if (
          this.#states.get(state.key) !== state ||
          state.generation !== generation ||
          state.position !== offset
        ) {
          continue
        }
        if (p.errorCode !== 0) {
          this.#partitionError(state, p.errorCode)
          continue
        }
        state.highWatermark = Number(p.highWatermark)
        const diverging = p.divergingEpoch
        if (diverging.epoch >= 0 && Number(diverging.endOffset) >= 0) {
          this.#divergedAt(state, Number(diverging.endOffset))
          continue
        }
        if (p.records) this.#append(state, p.records, p.abortedTransactions)
      }
    }
    return true
  }

  /** The leader's log diverged from what was fetched (see {@link repairDivergence}). */
  #divergedAt(state: PartitionState, endOffset: number): void {
    const repair = repairDivergence(state, endOffset)
    if (repair === 'validated') return
    if (repair === 'reset') {
      this.#moveTo(state, endOffset, { reason: 'truncation' })
      return
    }
    this.#totalRecords -= repair.records
    this.#totalBytes -= repair.bytes
    this.#wakeNode(state.leaderId)
  }

  #partitionError(state: PartitionState, errorCode: number): void {
    const name = kafkaErrorName(errorCode)
    if (name === 'OFFSET_OUT_OF_RANGE') {
      void this.#resetPosition(state)
      return
    }
    state.retryAt = Date.now() + (STALE_LEADER.has(name) ? 100 : 1000)
    if (STALE_LEADER.has(name)) this.#leaders.markStale()
    this.emit('fetch_error', {
      error: new Error(`fetch ${state.topic}#${state.partition}: ${name}`),
      topic: state.topic,
      partition: state.partition,
    })
  }

  async #resetPosition(state: PartitionState): Promise<void> {
    state.resetting = true
    const generation = state.generation
    const policy = this.#options.autoOffsetReset
    try {
      const offsets = await listOffsets(this.#cluster, [state], policy, this.#options.isolationLevel)
      const to = offsets.get(`${state.topic}#${state.partition}`)
      // A seek or a revocation while the lookup ran wins over the reset.
      if (to !== undefined && this.#states.get(state.key) === state && state.generation === generation) {
        this.#moveTo(state, to, { reason: 'offset_reset', policy })
      }
    } catch (error) {
      state.retryAt = Date.now() + 1000
      this.emit('fetch_error', { error: error as Error, topic: state.topic, partition: state.partition })
    } finally {
      state.resetting = false
      this.#wakeNode(state.leaderId)
    }
  }

  /** Moves a partition's position on the fetcher's own decision; tells the taker at once. */
  #moveTo(state: PartitionState, to: number, how: Pick<PositionReset, 'reason' | 'policy'>): void {
    const from = state.consumerPosition()
    this.#dropBuffer(state)
    state.reposition(to)
    this.emit('position_reset', { topic: state.topic, partition: state.partition, from, to, ...how })
    this.#wakeNode(state.leaderId)
  }

  /** Appends a response's records to the partition's buffer, from the current position on. */
  #append(
    state: PartitionState,
    batches: readonly RecordBatch[],
    abortedTransactions: readonly fetchV17.FetchResponseAbortedTransaction[] | null,
  ): void {
    const decoded = decodeRecords(
      state.topic,
      state.partition,
      state.position,
      batches,
      abortedTransactions,
      this.#options.isolationLevel === 'read_committed',
    )
    if (decoded.position === state.position) return
    state.position = decoded.position
    if (decoded.lastEpoch >= 0) state.lastFetchedEpoch = decoded.lastEpoch
    state.buffer.append(decoded.records, decoded.bytes)
    this.#totalRecords += decoded.records.length
    this.#totalBytes += decoded.bytes
    if (!state.paused) this.#recordsAvailable.notify()
  }
}
