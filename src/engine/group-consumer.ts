import { EventEmitter } from 'node:events'
import { KafkaCluster } from '../kafka/cluster.ts'
import { type KafkaConnectionOptions, resolveConnection } from '../kafka/connection-options.ts'
import { Committer } from './committer.ts'
import { EngineError } from './errors.ts'
import {
  type BufferLimits,
  DEFAULT_BUFFER_LIMITS,
  DEFAULT_FETCH_OPTIONS,
  Fetcher,
  type FetchOptions,
  type PartitionFetchStats,
} from './fetcher.ts'
import { GroupMembership } from './group-membership.ts'
import {
  type AutoOffsetReset,
  fetchCommittedOffsets,
  type IsolationLevel,
  listOffsets,
} from './offset-resolver.ts'
import type {
  AssignedPartition,
  AssignmentHooks,
  OffsetToCommit,
  PartitionRecords,
  RevokeReason,
  TopicPartition,
} from './types.ts'
import { partitionKey } from './types.ts'

/** Options of one consumer group member. */
export interface GroupConsumerOptions extends KafkaConnectionOptions {
  groupId: string
  /** Topic names to subscribe to (or `topicPattern`). */
  topics?: readonly string[]
  /** A server-side regular expression (RE2/J syntax) of topic names. */
  topicPattern?: string
  /** Static membership id: a restarted process with the same id gets its partitions back. */
  groupInstanceId?: string
  rackId?: string
  /** Where to start without a committed offset, or after OFFSET_OUT_OF_RANGE (default `earliest`). */
  autoOffsetReset?: AutoOffsetReset
  /** `read_committed` skips records of aborted transactions (default `read_uncommitted`). */
  isolationLevel?: IsolationLevel
  /** How long the coordinator waits for revocations (default 60 s). */
  rebalanceTimeoutMs?: number
  /** How long a revocation waits for the `onRevoked` hook before abandoning it (default 30 s). */
  revokeTimeoutMs?: number
  /** Server-side assignor, `uniform` (broker default) or `range`. */
  serverAssignor?: string
  fetch?: Partial<FetchOptions>
  buffer?: Partial<BufferLimits>
  hooks?: AssignmentHooks
}

export interface GroupConsumerEvents {
  partitions_assigned: [{ partitions: AssignedPartition[] }]
  partitions_revoked: [{ partitions: TopicPartition[]; reason: RevokeReason; timedOut: boolean }]
  committed: [{ offsets: OffsetToCommit[]; durationMs: number }]
  commit_failed: [{ offsets: OffsetToCommit[]; error: EngineError }]
  offset_reset: [{ topic: string; partition: number; from: number; to: number; policy: AutoOffsetReset }]
  /** A recoverable failure the engine retries on its own (fetch, heartbeat). */
  warning: [{ source: 'fetch' | 'heartbeat' | 'revoke'; error: Error }]
  /** The member cannot continue (e.g. not authorized); the consumer stops fetching. */
  fatal: [EngineError]
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v <= 0) {
    throw new EngineError('INVALID_OPTION', `${name} must be a positive number, got ${String(value)}`)
  }
  return v
}

/**
 * multilane's consumer group member: KIP-848 membership, per-partition fetching with flow
 * control, and commits with metadata. The processing layer takes raw records with
 * `takeRecords`, controls partitions with `pause`/`resume`/`seek`, commits what is done,
 * and drains revoked partitions in the `onRevoked` hook before the engine acknowledges them.
 */
export class GroupConsumer extends EventEmitter<GroupConsumerEvents> {
  readonly groupId: string
  readonly #options: GroupConsumerOptions
  readonly #cluster: KafkaCluster
  readonly #fetcher: Fetcher
  readonly #membership: GroupMembership
  readonly #committer: Committer
  readonly #hooks: AssignmentHooks
  readonly #revokeTimeoutMs: number
  readonly #revoking = new Set<string>()
  #state: 'new' | 'running' | 'closing' | 'closed' = 'new'
  #closing: Promise<void> | undefined

  constructor(options: GroupConsumerOptions) {
    super()
    if (!options.groupId) throw new EngineError('INVALID_OPTION', 'groupId must be a non-empty string')
    if (!options.topicPattern && !options.topics?.length) {
      throw new EngineError('INVALID_OPTION', `group "${options.groupId}": give topics or topicPattern`)
    }
    this.groupId = options.groupId
    this.#options = options
    this.#hooks = options.hooks ?? {}
    this.#revokeTimeoutMs = positive('revokeTimeoutMs', options.revokeTimeoutMs, 30_000)
    const fetch = { ...DEFAULT_FETCH_OPTIONS, ...options.fetch }
    const buffer = { ...DEFAULT_BUFFER_LIMITS, ...options.buffer }
    for (const [k, v] of Object.entries({ ...fetch, ...buffer })) positive(k, v, 1)
    this.#cluster = new KafkaCluster(resolveConnection(options))
    this.#fetcher = new Fetcher(this.#cluster, {
      fetch,
      buffer,
      isolationLevel: options.isolationLevel ?? 'read_uncommitted',
      autoOffsetReset: options.autoOffsetReset ?? 'earliest',
    })
    this.#membership = new GroupMembership(
      this.#cluster,
      {
        groupId: options.groupId,
        topics: options.topics,
        topicPattern: options.topicPattern,
        groupInstanceId: options.groupInstanceId,
        rackId: options.rackId,
        rebalanceTimeoutMs: positive('rebalanceTimeoutMs', options.rebalanceTimeoutMs, 60_000),
        serverAssignor: options.serverAssignor,
      },
      { assign: (p) => this.#assign(p), revoke: (p, lost) => this.#revoke(p, lost ? 'lost' : 'revoked') },
    )
    this.#committer = new Committer(this.#cluster, this.#membership, options.groupId)
    this.#fetcher.on('offset_reset', (e) => this.emit('offset_reset', e))
    this.#fetcher.on('fetch_error', (e) => this.emit('warning', { source: 'fetch', error: e.error }))
    this.#membership.on('heartbeat_error', (e) =>
      this.emit('warning', { source: 'heartbeat', error: e.error }),
    )
    this.#membership.on('fatal', (e) => {
      this.emit('fatal', e)
      void this.close()
    })
    this.#committer.on('committed', (e) => this.emit('committed', e))
    this.#committer.on('commit_failed', (e) => this.emit('commit_failed', e))
  }

  /** The member id (client-generated, stable for this consumer's life). */
  get memberId(): string {
    return this.#membership.memberId
  }

  get memberEpoch(): number {
    return this.#membership.memberEpoch
  }

  /** Joins the group; resolves once the coordinator accepted the member. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new EngineError('ENGINE_CLOSED', 'a GroupConsumer can be started once')
    this.#state = 'running'
    if (this.#options.topics?.length) await this.#cluster.refreshMetadata(this.#options.topics)
    await this.#membership.start()
  }

  /** Up to `max` buffered records, grouped by partition, in offset order per partition. */
  takeRecords(max = Number.POSITIVE_INFINITY): PartitionRecords[] {
    return this.#fetcher.takeRecords(max)
  }

  /** Resolves when records may be available, on close, or after `timeoutMs`. */
  waitForRecords(timeoutMs?: number): Promise<void> {
    return this.#fetcher.waitForRecords(timeoutMs)
  }

  /** Wakes a pending `waitForRecords` (e.g. so a processing loop can notice it should stop). */
  interruptWait(): void {
    this.#fetcher.interrupt()
  }

  /** Partitions currently fetched (assigned and not being revoked). */
  assignment(): TopicPartition[] {
    return this.#fetcher.assigned()
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.#fetcher.pause(partitions)
  }

  resume(partitions: readonly TopicPartition[]): void {
    this.#fetcher.resume(partitions)
  }

  isPaused(partition: TopicPartition): boolean {
    return this.#fetcher.isPaused(partition.topic, partition.partition)
  }

  /** Next offset to be handed over for a partition; undefined when not assigned. */
  position(partition: TopicPartition): number | undefined {
    return this.#fetcher.position(partition.topic, partition.partition)
  }

  /** Continues a partition from `offset`, dropping what was buffered. */
  seek(partition: TopicPartition, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new EngineError('INVALID_OPTION', `seek offset must be a non-negative integer, got ${offset}`)
    }
    if (!this.#fetcher.seek(partition.topic, partition.partition, offset)) {
      throw new EngineError(
        'PARTITION_NOT_ASSIGNED',
        `${partition.topic}#${partition.partition} is not assigned`,
      )
    }
  }

  /**
   * Commits offsets (and metadata) of partitions this member owns or is revoking; offsets of
   * partitions it no longer owns are left out, so a late commit cannot rewind the new owner.
   */
  commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    const owned = offsets.filter(
      (o) =>
        this.#fetcher.has(o.topic, o.partition) || this.#revoking.has(partitionKey(o.topic, o.partition)),
    )
    return this.#committer.commit(owned)
  }

  /** Fetch-side statistics per assigned partition. */
  stats(): PartitionFetchStats[] {
    return this.#fetcher.stats()
  }

  /** Bytes and records held in fetch buffers. */
  buffered(): { records: number; bytes: number } {
    return { records: this.#fetcher.bufferedRecords, bytes: this.#fetcher.bufferedBytes }
  }

  /**
   * Stops fetching, lets the `onRevoked` hook drain and commit all partitions (reason
   * `closing`, bounded by revokeTimeoutMs), leaves the group and closes connections.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const wasRunning = this.#state === 'running'
    this.#state = 'closing'
    this.#fetcher.interrupt()
    if (wasRunning) {
      await this.#membership.settled()
      const owned = this.#membership.owned()
      if (owned.length > 0) await this.#revoke(owned, 'closing')
      await this.#membership.leave()
    }
    await this.#fetcher.close()
    await this.#cluster.close()
    this.#state = 'closed'
  }

  async #assign(partitions: TopicPartition[]): Promise<void> {
    if (this.#state !== 'running') return
    const coordinator = this.#membership.coordinatorNodeId
    if (coordinator === undefined) throw new EngineError('ENGINE_NOT_STARTED', 'no coordinator known')
    const committed = await fetchCommittedOffsets(this.#cluster, coordinator, this.groupId, partitions)
    const missing = partitions.filter((p) => !committed.has(`${p.topic}#${p.partition}`))
    if (missing.length > 0) await this.#cluster.refreshMetadata([...new Set(missing.map((p) => p.topic))])
    const reset = missing.length
      ? await listOffsets(
          this.#cluster,
          missing,
          this.#options.autoOffsetReset ?? 'earliest',
          this.#options.isolationLevel ?? 'read_uncommitted',
        )
      : new Map<string, number>()
    const assigned: AssignedPartition[] = partitions.map((p) => {
      const c = committed.get(`${p.topic}#${p.partition}`)
      return {
        topic: p.topic,
        partition: p.partition,
        position: c ? c.offset : (reset.get(`${p.topic}#${p.partition}`) ?? 0),
        committed: c ?? null,
      }
    })
    await this.#hooks.onAssigned?.(assigned)
    await this.#fetcher.add(assigned)
    this.emit('partitions_assigned', { partitions: assigned })
  }

  async #revoke(partitions: TopicPartition[], reason: RevokeReason): Promise<void> {
    // Stop fetching at once; buffered records of these partitions are dropped.
    this.#fetcher.remove(partitions)
    const keys = partitions.map((p) => partitionKey(p.topic, p.partition))
    if (reason !== 'lost') for (const k of keys) this.#revoking.add(k)
    const controller = new AbortController()
    let timer: NodeJS.Timeout | undefined
    let timedOut = false
    try {
      const hook = Promise.resolve(this.#hooks.onRevoked?.(partitions, { reason, signal: controller.signal }))
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          timedOut = true
          resolve()
        }, this.#revokeTimeoutMs)
      })
      await Promise.race([
        hook.catch((error: unknown) => this.emit('warning', { source: 'revoke', error: error as Error })),
        timeout,
      ])
    } finally {
      if (timer) clearTimeout(timer)
      controller.abort()
      for (const k of keys) this.#revoking.delete(k)
    }
    this.emit('partitions_revoked', { partitions, reason, timedOut })
  }
}
