import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { fetchV17 } from '@platformatic/kafka'
import type { KafkaCluster } from '../kafka/cluster.ts'
import { kafkaErrorName, responseOf, STALE_LEADER } from '../kafka/protocol-errors.ts'
import {
  type AutoOffsetReset,
  type IsolationLevel,
  isolationLevelCode,
  listOffsets,
  toOffset,
} from './offset-resolver.ts'
import { PartitionBuffer, recordBytes } from './partition-buffer.ts'
import type { ConsumerRecord, PartitionRecords, TopicPartition } from './types.ts'
import { partitionKey } from './types.ts'
import { WakeSignal } from './wake-signal.ts'

/** Fetch request sizing. */
export interface FetchOptions {
  /** How long the broker may hold a fetch waiting for `minBytes` (default 500 ms). */
  maxWaitMs: number
  /** Bytes the broker waits for before answering (default 1). */
  minBytes: number
  /** Upper bound of one response (default 16 MiB; the broker may exceed it by one batch). */
  maxBytes: number
  /** Upper bound per partition and response (default 1 MiB; idem). */
  maxPartitionBytes: number
}

/**
 * Memory bounds. A partition is not fetched while its buffer or the total is at a limit, so
 * buffered memory stays within the limits plus at most one fetch response per leader
 * (Kafka returns at least one record batch even when it is larger than the limit).
 */
export interface BufferLimits {
  maxRecordsPerPartition: number
  maxBytesPerPartition: number
  maxRecords: number
  maxBytes: number
}

export const DEFAULT_FETCH_OPTIONS: FetchOptions = {
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 16 * 1024 * 1024,
  maxPartitionBytes: 1024 * 1024,
}

export const DEFAULT_BUFFER_LIMITS: BufferLimits = {
  maxRecordsPerPartition: 10_000,
  maxBytesPerPartition: 8 * 1024 * 1024,
  maxRecords: 50_000,
  maxBytes: 64 * 1024 * 1024,
}

export interface FetcherOptions {
  fetch: FetchOptions
  buffer: BufferLimits
  isolationLevel: IsolationLevel
  autoOffsetReset: AutoOffsetReset
}

export interface FetcherEvents {
  /** A partition's position was reset after OFFSET_OUT_OF_RANGE. */
  offset_reset: [{ topic: string; partition: number; from: number; to: number; policy: AutoOffsetReset }]
  /** A fetch or a partition failed; the fetcher retries on its own. */
  fetch_error: [{ error: Error; nodeId?: number; topic?: string; partition?: number }]
}

/** Per-partition fetch state. */
class PartitionState {
  readonly topic: string
  readonly partition: number
  readonly key: string
  topicId = ''
  leaderId = -1
  leaderEpoch = -1
  position: number
  paused = false
  inFlight = false
  /** Bumped by seek: responses for an older generation are discarded. */
  generation = 0
  highWatermark = -1
  retryAt = 0
  resetting = false
  readonly buffer = new PartitionBuffer()

  constructor(topic: string, partition: number, position: number) {
    this.topic = topic
    this.partition = partition
    this.key = partitionKey(topic, partition)
    this.position = position
  }
}

/** Per-partition statistics (lag is against the last high watermark seen). */
export interface PartitionFetchStats extends TopicPartition {
  position: number
  highWatermark: number
  lag: number
  buffered: number
  bufferedBytes: number
  paused: boolean
}

const CONTROL_BATCH = 0x20
const TRANSACTIONAL_BATCH = 0x10
const LOG_APPEND_TIME = 0x08

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
  #refreshing: Promise<void> | undefined
  #metadataStale = false
  #retryTimer: NodeJS.Timeout | undefined

  constructor(cluster: KafkaCluster, options: FetcherOptions) {
    super()
    this.#cluster = cluster
    this.#options = options
  }

  /** Starts fetching these partitions from the given positions. */
  async add(partitions: ReadonlyArray<TopicPartition & { position: number }>): Promise<void> {
    for (const p of partitions) {
      const state = new PartitionState(p.topic, p.partition, p.position)
      this.#states.set(state.key, state)
    }
    this.#order = [...this.#states.values()]
    await this.#refreshLeaders()
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
    const s = this.#states.get(partitionKey(topic, partition))
    return s ? this.#consumerPosition(s) : undefined
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
      if (s.buffer.records > 0) this.#recordsAvailable.notify()
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
    s.position = offset
    s.generation++
    s.retryAt = 0
    this.#wakeNode(s.leaderId)
    return true
  }

  /** Takes up to `max` buffered records, round-robin over unpaused partitions. */
  takeRecords(max: number): PartitionRecords[] {
    const out: PartitionRecords[] = []
    const states = this.#order
    const n = states.length
    let remaining = max
    for (let i = 0; i < n && remaining > 0; i++) {
      const s = states[(this.#roundRobin + i) % n]!
      if (s.paused || s.buffer.records === 0) continue
      const bytesBefore = s.buffer.bytes
      const records = s.buffer.take(remaining)
      this.#totalRecords -= records.length
      this.#totalBytes -= bytesBefore - s.buffer.bytes
      remaining -= records.length
      out.push({ topic: s.topic, partition: s.partition, records })
      this.#wakeNode(s.leaderId)
    }
    this.#roundRobin = n === 0 ? 0 : (this.#roundRobin + 1) % n
    return out
  }

  /** True when some unpaused partition has buffered records. */
  hasRecords(): boolean {
    for (const s of this.#order) if (!s.paused && s.buffer.records > 0) return true
    return false
  }

  /** Resolves when records may be available (or after `timeoutMs`). */
  async waitForRecords(timeoutMs?: number): Promise<void> {
    if (this.hasRecords() || this.#closed) return
    await this.#recordsAvailable.wait(timeoutMs)
  }

  /** Wakes any `waitForRecords` caller (used on close). */
  interrupt(): void {
    this.#recordsAvailable.notify()
  }

  get bufferedRecords(): number {
    return this.#totalRecords
  }

  get bufferedBytes(): number {
    return this.#totalBytes
  }

  stats(): PartitionFetchStats[] {
    return this.#order.map((s) => ({
      topic: s.topic,
      partition: s.partition,
      position: this.#consumerPosition(s),
      highWatermark: s.highWatermark,
      lag: s.highWatermark < 0 ? 0 : Math.max(0, s.highWatermark - this.#consumerPosition(s)),
      buffered: s.buffer.records,
      bufferedBytes: s.buffer.bytes,
      paused: s.paused,
    }))
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#retryTimer) clearTimeout(this.#retryTimer)
    for (const loop of this.#loops.values()) loop.wake.notify()
    this.#recordsAvailable.notify()
    await Promise.allSettled([...this.#loops.values()].map((l) => l.done))
    for (const s of this.#states.values()) s.buffer.clear()
    this.#states.clear()
    this.#order = []
  }

  #dropBuffer(s: PartitionState): void {
    this.#totalRecords -= s.buffer.records
    this.#totalBytes -= s.buffer.bytes
    s.buffer.clear()
  }

  /** The next offset a taker sees: the first buffered record, else the fetch position. */
  #consumerPosition(s: PartitionState): number {
    return s.buffer.firstOffset() ?? s.position
  }

  #wakeNode(nodeId: number): void {
    this.#loops.get(nodeId)?.wake.notify()
  }

  /** Updates leaders of all assigned partitions; starts a fetch loop per leader. */
  async #refreshLeaders(): Promise<void> {
    if (this.#refreshing) return this.#refreshing
    this.#refreshing = (async () => {
      try {
        const topics = [...new Set(this.#order.map((s) => s.topic))]
        if (topics.length === 0) return
        const metadata = await this.#cluster.refreshMetadata(topics)
        this.#metadataStale = false
        for (const s of this.#states.values()) {
          const leader = metadata.get(s.topic)?.partitions[s.partition]
          s.topicId = metadata.get(s.topic)?.topicId ?? ''
          s.leaderId = leader?.nodeId ?? -1
          s.leaderEpoch = leader?.leaderEpoch ?? -1
          if (s.leaderId >= 0) this.#ensureLoop(s.leaderId)
          // No leader right now (e.g. a broker shutting down answered): ask again, or the
          // partition would never be fetched again.
          else this.#metadataStale = true
        }
      } catch (error) {
        this.#metadataStale = true
        this.emit('fetch_error', { error: error as Error })
      } finally {
        this.#refreshing = undefined
        // Fetch loops retry stale metadata themselves; with no loop yet (the first partitions
        // had no leader, or the refresh failed) a timer must.
        if (this.#metadataStale && this.#loops.size === 0 && !this.#closed && !this.#retryTimer) {
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined
            void this.#refreshLeaders()
          }, 500)
        }
      }
    })()
    return this.#refreshing
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

  #fetchable(s: PartitionState, nodeId: number, now: number): boolean {
    const limits = this.#options.buffer
    return (
      s.leaderId === nodeId &&
      !s.paused &&
      !s.inFlight &&
      !s.resetting &&
      s.topicId !== '' &&
      s.retryAt <= now &&
      s.buffer.records < limits.maxRecordsPerPartition &&
      s.buffer.bytes < limits.maxBytesPerPartition
    )
  }

  async #runLoop(nodeId: number, wake: WakeSignal): Promise<void> {
    let backoffMs = 100
    while (!this.#closed) {
      if (this.#metadataStale) await this.#refreshLeaders()
      const limits = this.#options.buffer
      const now = Date.now()
      const ready =
        this.#totalRecords < limits.maxRecords && this.#totalBytes < limits.maxBytes
          ? this.#order.filter((s) => this.#fetchable(s, nodeId, now))
          : []
      if (ready.length === 0) {
        // Nothing to fetch here: wait for resume/take/seek/assign, or re-check retry timers.
        await wake.wait(this.#metadataStale ? 200 : 1000)
        continue
      }
      const ok = await this.#fetchOnce(nodeId, ready)
      if (ok) backoffMs = 100
      else {
        await sleep(backoffMs)
        backoffMs = Math.min(backoffMs * 2, 2000)
      }
    }
  }

  /** One Fetch to one leader. Returns false when the request itself failed. */
  async #fetchOnce(nodeId: number, partitions: PartitionState[]): Promise<boolean> {
    const { fetch, buffer } = this.#options
    const byTopic = new Map<string, fetchV17.FetchRequestPartition[]>()
    const sent = new Map<string, { state: PartitionState; generation: number; offset: number }>()
    for (const s of partitions) {
      const room = buffer.maxBytesPerPartition - s.buffer.bytes
      const list = byTopic.get(s.topicId) ?? []
      list.push({
        partition: s.partition,
        currentLeaderEpoch: s.leaderEpoch,
        fetchOffset: BigInt(s.position),
        lastFetchedEpoch: -1,
        partitionMaxBytes: Math.max(1024, Math.min(fetch.maxPartitionBytes, room)),
      })
      byTopic.set(s.topicId, list)
      s.inFlight = true
      sent.set(`${s.topicId}:${s.partition}`, { state: s, generation: s.generation, offset: s.position })
    }
    const maxBytes = Math.max(1024, Math.min(fetch.maxBytes, buffer.maxBytes - this.#totalBytes))
    let response: fetchV17.FetchResponse | undefined
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
        [...byTopic].map(([topicId, ps]) => ({ topicId, partitions: ps })),
        [],
        '',
      )
    } catch (error) {
      response = responseOf<fetchV17.FetchResponse>(error)
      if (!response) {
        for (const { state } of sent.values()) state.inFlight = false
        if (!this.#closed) {
          this.#metadataStale = true
          this.emit('fetch_error', { error: error as Error, nodeId })
        }
        return false
      }
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
        if (p.records) this.#append(state, p.records, p.abortedTransactions)
      }
    }
    return true
  }

  #partitionError(state: PartitionState, errorCode: number): void {
    const name = kafkaErrorName(errorCode)
    if (name === 'OFFSET_OUT_OF_RANGE') {
      void this.#resetPosition(state)
      return
    }
    state.retryAt = Date.now() + (STALE_LEADER.has(name) ? 100 : 1000)
    if (STALE_LEADER.has(name)) this.#metadataStale = true
    this.emit('fetch_error', {
      error: new Error(`fetch ${state.topic}#${state.partition}: ${name}`),
      topic: state.topic,
      partition: state.partition,
    })
  }

  async #resetPosition(state: PartitionState): Promise<void> {
    state.resetting = true
    const policy = this.#options.autoOffsetReset
    try {
      const offsets = await listOffsets(this.#cluster, [state], policy, this.#options.isolationLevel)
      const to = offsets.get(`${state.topic}#${state.partition}`)
      if (to !== undefined && this.#states.get(state.key) === state) {
        const from = state.position
        state.position = to
        state.generation++
        this.emit('offset_reset', { topic: state.topic, partition: state.partition, from, to, policy })
      }
    } catch (error) {
      state.retryAt = Date.now() + 1000
      this.emit('fetch_error', { error: error as Error, topic: state.topic, partition: state.partition })
    } finally {
      state.resetting = false
      this.#wakeNode(state.leaderId)
    }
  }

  /** Decodes record batches into the partition's buffer, from the current position on. */
  #append(
    state: PartitionState,
    batches: NonNullable<fetchV17.FetchResponsePartition['records']>,
    abortedTransactions: fetchV17.FetchResponsePartitionAbortedTransaction[] | null,
  ): void {
    const readCommitted = this.#options.isolationLevel === 'read_committed'
    const aborted =
      readCommitted && abortedTransactions?.length ? [...abortedTransactions].sort(byFirstOffset) : []
    const abortedProducers = new Set<bigint>()
    let abortedIndex = 0
    const out: ConsumerRecord[] = []
    let bytes = 0
    let position = state.position
    const { topic, partition } = state
    for (const batch of batches) {
      const base = toOffset(batch.firstOffset)
      const last = base + batch.lastOffsetDelta
      if (last < position) continue
      if (readCommitted) {
        while (abortedIndex < aborted.length && aborted[abortedIndex]!.firstOffset <= BigInt(last)) {
          abortedProducers.add(aborted[abortedIndex]!.producerId)
          abortedIndex++
        }
      }
      if ((batch.attributes & CONTROL_BATCH) !== 0) {
        // A transaction marker: nothing to hand over; it closes the producer's aborted range.
        abortedProducers.delete(batch.producerId)
        position = last + 1
        continue
      }
      if (
        readCommitted &&
        (batch.attributes & TRANSACTIONAL_BATCH) !== 0 &&
        abortedProducers.has(batch.producerId)
      ) {
        position = last + 1
        continue
      }
      const logAppend = (batch.attributes & LOG_APPEND_TIME) !== 0
      const firstTimestamp = Number(logAppend ? batch.maxTimestamp : batch.firstTimestamp)
      const leaderEpoch = batch.partitionLeaderEpoch
      for (const r of batch.records) {
        const offset = base + r.offsetDelta
        if (offset < position) continue
        const record: ConsumerRecord = {
          topic,
          partition,
          offset,
          timestamp: logAppend ? firstTimestamp : firstTimestamp + Number(r.timestampDelta),
          key: r.key,
          value: r.value,
          headers: r.headers,
          leaderEpoch,
        }
        bytes += recordBytes(record)
        out.push(record)
      }
      position = last + 1
    }
    if (position === state.position) return
    state.position = position
    state.buffer.append(out, bytes)
    this.#totalRecords += out.length
    this.#totalBytes += bytes
    if (out.length > 0 && !state.paused) this.#recordsAvailable.notify()
  }
}

function byFirstOffset(
  a: fetchV17.FetchResponsePartitionAbortedTransaction,
  b: fetchV17.FetchResponsePartitionAbortedTransaction,
): number {
  return a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0
}
