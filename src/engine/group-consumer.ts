import { EventEmitter } from 'node:events'
import { CLASSIC_GROUP_PINNED_VERSIONS, CONSUMER_GROUP_PINNED_VERSIONS } from '../kafka/api-versions.ts'
import { isNetworkError, KafkaCluster } from '../kafka/cluster.ts'
import { resolveConnection } from '../kafka/connection-options.ts'
import { type CommitMember, Committer, offsetCommitSender } from './committer.ts'
import { EngineError } from './errors.ts'
import { Fetcher, type PartitionFetchStats, type PositionReset } from './fetcher.ts'
import {
  checkGroupConsumerOptions,
  type GroupConsumerEvents,
  type GroupConsumerOptions,
} from './group-consumer-options.ts'
import { chooseGroupProtocol } from './group-protocol.ts'
import type { ConsumerMembership, GroupProtocol } from './membership.ts'
import { createMembership, type MembershipSettings, membershipSettings } from './membership-factory.ts'
import { fetchCommittedOffsets, listOffsetsWhereKnown } from './offset-resolver.ts'
import {
  type AssignedPartition,
  type AssignmentHooks,
  type IntakeLimit,
  type OffsetToCommit,
  type PartitionRecords,
  partitionKey,
  type RevokeReason,
  type TopicPartition,
} from './types.ts'
import { accountBuffersInHeapLimit } from './v8-buffer-gc.ts'

export type { GroupConsumerEvents, GroupConsumerOptions } from './group-consumer-options.ts'

/** Positions of partitions whose leader was unknown at assignment are looked up again after 500 ms, doubling to 5 s. */
const POSITION_RETRY_MS = 500
const POSITION_RETRY_MAX_MS = 5000

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
  /** Created at start, once the protocol is chosen. */
  #membership: ConsumerMembership | undefined
  readonly #committer: Committer
  readonly #timeouts: MembershipSettings
  readonly #hooks: AssignmentHooks
  readonly #revokeTimeoutMs: number
  readonly #missingTopicCheckMs: number
  readonly #revoking = new Set<string>()
  /** Assigned partitions whose start position is not known yet (no leader to ask). */
  readonly #unpositioned = new Map<string, TopicPartition>()
  #positionTimer: NodeJS.Timeout | undefined
  #positionRetryMs = POSITION_RETRY_MS
  #topicTimer: NodeJS.Timeout | undefined
  #state: 'new' | 'running' | 'closing' | 'closed' = 'new'
  #closing: Promise<void> | undefined
  #fatal: EngineError | undefined

  constructor(options: GroupConsumerOptions) {
    super()
    const { fetch, buffer, revokeTimeoutMs, missingTopicCheckMs } = checkGroupConsumerOptions(options)
    this.groupId = options.groupId
    this.#options = options
    this.#hooks = options.hooks ?? {}
    this.#revokeTimeoutMs = revokeTimeoutMs
    this.#missingTopicCheckMs = missingTopicCheckMs
    this.#cluster = new KafkaCluster(resolveConnection(options))
    this.#fetcher = new Fetcher(this.#cluster, {
      fetch,
      buffer,
      isolationLevel: options.isolationLevel ?? 'read_uncommitted',
      autoOffsetReset: options.autoOffsetReset ?? 'earliest',
    })
    this.#timeouts = membershipSettings(options)
    // The committer reads the membership of the moment (created at start).
    const current = () => this.#membership
    const member: CommitMember = {
      get memberId() {
        return current()?.memberId ?? ''
      },
      get memberEpoch() {
        return current()?.memberEpoch ?? -1
      },
      get groupInstanceId() {
        return options.groupInstanceId ?? null
      },
      get coordinatorNodeId() {
        return current()?.coordinatorNodeId
      },
      nextHeartbeat: (timeoutMs) => this.#membership?.nextHeartbeat(timeoutMs) ?? Promise.resolve(),
    }
    this.#committer = new Committer({
      groupId: options.groupId,
      member,
      owns: (p) => this.#owns(p),
      requestTimeoutMs: this.#cluster.requestTimeoutMs,
      send: offsetCommitSender(this.#cluster, options.groupId),
      protocol: () => this.#membership?.protocol ?? 'consumer',
    })
    this.#fetcher.on('position_reset', (e) => this.#positionReset(e))
    this.#fetcher.on('fetch_error', (e) => this.emit('warning', { source: 'fetch', error: e.error }))
    this.#committer.on('committed', (e) => this.emit('committed', e))
    this.#committer.on('commit_failed', (e) => this.emit('commit_failed', e))
  }

  /**
   * The member id: KIP-848, client-generated and stable for this consumer's life; classic, the
   * coordinator's ('' before the first join).
   */
  get memberId(): string {
    return this.#membership?.memberId ?? ''
  }

  /** The member epoch (KIP-848) or the generation id (classic); -1 before start. */
  get memberEpoch(): number {
    return this.#membership?.memberEpoch ?? -1
  }

  /** The protocol the member speaks (undefined until start chose it). */
  get groupProtocol(): GroupProtocol | undefined {
    return this.#membership?.protocol
  }

  /** True once the consumer is closing or closed (after `close()` or a fatal error). */
  get closed(): boolean {
    return this.#state === 'closing' || this.#state === 'closed'
  }

  /** Joins the group; resolves once the coordinator accepted the member. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new EngineError('ENGINE_CLOSED', 'a GroupConsumer can be started once')
    this.#state = 'running'
    accountBuffersInHeapLimit()
    // Unreachable brokers or refused credentials fail the start here, with their own message.
    const metadata = await this.#cluster.refreshMetadata(
      this.#options.topics?.length ? this.#options.topics : [],
    )
    this.#reportMissing(metadata)
    // A broker too old for an API the engine is written against fails here, naming the API
    // and both sides' versions, rather than with UNSUPPORTED_VERSION at the first request.
    // A broker the metadata still names but that cannot be reached (killed: the controller lists
    // it until the broker session timeout) must not fail the start: its partitions are fetched
    // once their leadership moves, and its versions are asked when it answers again.
    const requested = this.#options.groupProtocol ?? 'auto'
    const { protocol, reason } = await chooseGroupProtocol(this.#cluster, this.groupId, requested)
    if (protocol === 'classic' && this.#options.topicPattern) {
      throw new EngineError(
        'GROUP_PROTOCOL_UNAVAILABLE',
        `group "${this.groupId}": topicPattern needs the KIP-848 consumer protocol, which this cluster does not offer (${reason}); subscribe to topic names instead`,
      )
    }
    const pinned = protocol === 'classic' ? CLASSIC_GROUP_PINNED_VERSIONS : CONSUMER_GROUP_PINNED_VERSIONS
    const checks = await Promise.allSettled(
      this.#cluster.knownBrokers().map((nodeId) => this.#cluster.requireVersions(nodeId, pinned)),
    )
    for (const check of checks) {
      if (check.status === 'fulfilled') continue
      if (!isNetworkError(check.reason)) throw check.reason
      this.emit('warning', { source: 'metadata', error: check.reason as Error })
    }
    const membership = this.#createMembership(protocol)
    this.#membership = membership
    this.emit('group_protocol', { protocol, requested, reason })
    await membership.start()
  }

  #createMembership(protocol: GroupProtocol): ConsumerMembership {
    const membership = createMembership(protocol, this.#cluster, this.#options, this.#timeouts, {
      assign: (p) => this.#assign(p),
      revoke: (p, lost) => this.#revoke(p, lost ? 'lost' : 'revoked'),
    })
    membership.on('heartbeat_error', (e) => this.emit('warning', { source: 'heartbeat', error: e.error }))
    membership.on('fatal', (e) => this.#fail(e))
    return membership
  }

  /**
   * Up to `max` buffered records, spread over the partitions that have some, in offset order
   * per partition; `limit` caps each partition's share. See {@link Fetcher.takeRecords}.
   */
  takeRecords(max = Number.POSITIVE_INFINITY, limit?: IntakeLimit): PartitionRecords[] {
    return this.#fetcher.takeRecords(max, limit)
  }

  /** Resolves when records may be available, on `interruptWait`, or after `timeoutMs`. */
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
   * Commits offsets (and metadata) of partitions this member owns or is revoking. Ownership is
   * checked when the request is sent: a partition given up meanwhile is left out, so a late
   * commit cannot rewind the new owner.
   */
  commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    return this.#committer.commit(offsets)
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
   * `closing`, bounded by revokeTimeoutMs), leaves the group and closes connections. After a
   * fatal error the partitions are handed to the hook as `lost` instead: they may belong to
   * another member already.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  #owns(p: TopicPartition): boolean {
    const key = partitionKey(p.topic, p.partition)
    return this.#fetcher.has(p.topic, p.partition) || this.#revoking.has(key)
  }

  async #close(): Promise<void> {
    const wasRunning = this.#state === 'running'
    this.#state = 'closing'
    clearTimeout(this.#positionTimer)
    clearTimeout(this.#topicTimer)
    this.#fetcher.interrupt()
    const membership = this.#membership
    if (wasRunning && membership) {
      membership.stopReconciling()
      await membership.settled()
      const owned = membership.owned()
      if (owned.length > 0) await this.#revoke(owned, this.#fatal ? 'lost' : 'closing')
      await membership.leave()
    }
    await this.#fetcher.close()
    await this.#cluster.close()
    this.#state = 'closed'
  }

  /** The member cannot go on: report once, then close (the processing layer hears it first). */
  #fail(error: EngineError): void {
    if (this.#fatal) return
    this.#fatal = error
    this.emit('fatal', error)
    void this.close()
  }

  /** Warns about subscribed topics the metadata does not know; looks again while some are missing. */
  #reportMissing(metadata: ReadonlyMap<string, unknown>): void {
    const missing = (this.#options.topics ?? []).filter((t) => !metadata.has(t))
    if (missing.length === 0 || this.closed) return
    this.emit('topics_missing', { topics: missing })
    this.#topicTimer = setTimeout(async () => {
      try {
        this.#reportMissing(await this.#cluster.refreshMetadata(this.#options.topics ?? []))
      } catch (error) {
        this.emit('warning', { source: 'metadata', error: error as Error })
        this.#reportMissing(new Map())
      }
    }, this.#missingTopicCheckMs)
  }

  async #assign(partitions: TopicPartition[]): Promise<void> {
    if (this.#state !== 'running') return
    const coordinator = this.#membership?.coordinatorNodeId
    if (coordinator === undefined) throw new EngineError('ENGINE_NOT_STARTED', 'no coordinator known')
    const committed = await fetchCommittedOffsets(this.#cluster, coordinator, this.groupId, partitions)
    const positioned: AssignedPartition[] = []
    const missing: TopicPartition[] = []
    for (const p of partitions) {
      const c = committed.get(`${p.topic}#${p.partition}`)
      if (c) positioned.push({ topic: p.topic, partition: p.partition, position: c.offset, committed: c })
      else missing.push(p)
    }
    const { resolved, unresolved } = await this.#positionsByReset(missing)
    positioned.push(...resolved)
    for (const p of unresolved) this.#unpositioned.set(partitionKey(p.topic, p.partition), p)
    if (unresolved.length > 0) this.#schedulePositions()
    if (positioned.length > 0) await this.#hand(positioned)
  }

  /** Start positions by `autoOffsetReset`; partitions whose leader is unknown stay unresolved. */
  async #positionsByReset(
    partitions: readonly TopicPartition[],
  ): Promise<{ resolved: AssignedPartition[]; unresolved: TopicPartition[] }> {
    if (partitions.length === 0) return { resolved: [], unresolved: [] }
    try {
      await this.#cluster.refreshMetadata([...new Set(partitions.map((p) => p.topic))])
    } catch (error) {
      this.emit('warning', { source: 'metadata', error: error as Error })
    }
    const { offsets, unresolved } = await listOffsetsWhereKnown(
      this.#cluster,
      partitions,
      this.#options.autoOffsetReset ?? 'earliest',
      this.#options.isolationLevel ?? 'read_uncommitted',
    )
    const resolved: AssignedPartition[] = []
    for (const p of partitions) {
      const position = offsets.get(`${p.topic}#${p.partition}`)
      if (position !== undefined)
        resolved.push({ topic: p.topic, partition: p.partition, position, committed: null })
    }
    return { resolved, unresolved }
  }

  /** Gives partitions with known positions to the processing layer, then fetches them. */
  async #hand(partitions: AssignedPartition[]): Promise<void> {
    try {
      await this.#hooks.onAssigned?.(partitions)
    } catch (error) {
      throw new EngineError(
        'ASSIGNMENT_REFUSED',
        `group "${this.groupId}": the onAssigned hook refused ${describe(partitions)}: ${(error as Error).message}`,
        { cause: error },
      )
    }
    await this.#fetcher.add(partitions)
    this.emit('partitions_assigned', { partitions })
  }

  #schedulePositions(): void {
    if (this.#positionTimer || this.closed) return
    this.#positionTimer = setTimeout(() => {
      this.#positionTimer = undefined
      void this.#resolveDeferred()
    }, this.#positionRetryMs)
    this.#positionRetryMs = Math.min(this.#positionRetryMs * 2, POSITION_RETRY_MAX_MS)
  }

  /** Retries the start positions of partitions that had no leader; hands over the ones found. */
  async #resolveDeferred(): Promise<void> {
    if (this.closed || this.#unpositioned.size === 0) return
    try {
      const { resolved } = await this.#positionsByReset([...this.#unpositioned.values()])
      // Revoked while the lookup ran: not ours to hand over.
      const still = resolved.filter((p) => this.#unpositioned.delete(partitionKey(p.topic, p.partition)))
      if (still.length > 0 && !this.closed) await this.#hand(still)
    } catch (error) {
      if (error instanceof EngineError && error.code === 'ASSIGNMENT_REFUSED') return this.#fail(error)
      this.emit('warning', { source: 'metadata', error: error as Error })
    }
    if (this.#unpositioned.size > 0) this.#schedulePositions()
    else this.#positionRetryMs = POSITION_RETRY_MS
  }

  #positionReset(reset: PositionReset): void {
    this.emit('position_reset', reset)
    try {
      this.#hooks.onPositionReset?.(reset)
    } catch (error) {
      this.#fail(
        new EngineError(
          'ASSIGNMENT_REFUSED',
          `group "${this.groupId}": the onPositionReset hook failed for ${reset.topic}#${reset.partition}: ${(error as Error).message}`,
          { cause: error },
        ),
      )
    }
  }

  async #revoke(partitions: TopicPartition[], reason: RevokeReason): Promise<void> {
    // Stop fetching at once; buffered records of these partitions are dropped.
    this.#fetcher.remove(partitions)
    const keys = partitions.map((p) => partitionKey(p.topic, p.partition))
    for (const k of keys) this.#unpositioned.delete(k)
    if (reason === 'lost') for (const k of keys) this.#revoking.delete(k)
    else for (const k of keys) this.#revoking.add(k)
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

function describe(partitions: readonly TopicPartition[]): string {
  return partitions.map((p) => `${p.topic}#${p.partition}`).join(', ')
}
