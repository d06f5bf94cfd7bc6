import { EventEmitter } from 'node:events'
import { KafkaCluster } from '../../kafka/cluster.ts'
import { resolveConnection } from '../../kafka/connection-options.ts'
import { type IntakeLimit, partitionKey, type TopicPartition } from '../types.ts'
import { accountBuffersInHeapLimit } from '../v8-buffer-gc.ts'
import { WakeSignal } from '../wake-signal.ts'
import { type AckListener, pick, Resolver, refused, tellLater } from './ack-entry.ts'
import { ShareError } from './errors.ts'
import { ShareGroupSettings } from './group-settings.ts'
import { shortLockWarning } from './lock-timing.ts'
import type { SessionHost, ShareFetchOptions } from './session-host.ts'
import { closeSessions, loseUnsent } from './session-shutdown.ts'
import { resolveShareOptions } from './share-consumer-options.ts'
import type { ShareConsumerEvents, ShareConsumerOptions, ShareConsumerStats } from './share-consumer-types.ts'
import { ShareLeaders } from './share-leaders.ts'
import { ShareMembership } from './share-membership.ts'
import { SharePartition } from './share-partition.ts'
import { SharePartitions } from './share-partitions.ts'
import { ShareSession } from './share-session.ts'
import { shareStats } from './share-stats.ts'
import { type ShareTakeHost, takeShareRecords } from './share-take.ts'
import type { AcknowledgeType, AckResult, RecordDelivery, ShareRecords } from './types.ts'

export type * from './share-consumer-types.ts'

/**
 * multilane's share-group member (KIP-932): membership, one share session per leader broker,
 * acquired records handed out raw through `takeRecords`, and per-record acknowledgements that
 * may come in any order and from any earlier fetch (`acknowledge`), batched onto the next
 * request of the record's session.
 */
export class ShareConsumer extends EventEmitter<ShareConsumerEvents> {
  readonly groupId: string
  readonly #options: ShareConsumerOptions
  readonly #cluster: KafkaCluster
  readonly #membership: ShareMembership
  readonly #fetch: ShareFetchOptions
  readonly #partitions = new SharePartitions()
  readonly #byId = new Map<string, SharePartition>()
  readonly #sessions = new Map<number, ShareSession>()
  readonly #recordsAvailable = new WakeSignal()
  readonly #requestDone = new WakeSignal()
  readonly #settings: ShareGroupSettings
  readonly #closeTimeoutMs: number
  #requestSeq = 0
  #roundRobin = 0
  #state: 'new' | 'running' | 'closing' | 'closed' = 'new'
  /** False once `stopFetching()` was called: no partition is fetched any more. */
  #fetching = true
  #closing: Promise<void> | undefined
  #warnedRenew = false
  #warnedLock = false
  /** record_limit: a waitForRecords found nothing buffered, and no fetch has brought records since. */
  #wanted = false
  /** What the application's last take asked for: the records it could start then. */
  #demand: number
  readonly #host: SessionHost
  /** Leaders and topic ids of every known partition; a session per leader. */
  readonly #leaders: ShareLeaders
  readonly #taker: ShareTakeHost = {
    lockLost: (p, offsets) => this.#lockLost(p, offsets, 'the lock expired before the record was taken'),
    touched: (p) => this.#sessions.get(p.leaderId)?.wake(),
  }

  constructor(options: ShareConsumerOptions) {
    super()
    const resolved = resolveShareOptions(options)
    this.groupId = options.groupId
    this.#options = options
    this.#fetch = resolved.fetch
    this.#demand = this.#fetch.maxRecords
    this.#closeTimeoutMs = resolved.closeTimeoutMs
    this.#cluster = new KafkaCluster(resolveConnection(options))
    this.#settings = new ShareGroupSettings(
      this.#cluster,
      options.groupId,
      { value: resolved.lockBudget, fixed: options.maxRecordLocks !== undefined },
      (error) => this.emit('warning', { source: 'config', error }),
    )
    this.#membership = new ShareMembership(this.#cluster, {
      groupId: options.groupId,
      topics: options.topics,
      ...(options.rackId === undefined ? {} : { rackId: options.rackId }),
    })
    this.#membership.on('assignment', (partitions) => void this.#assign(partitions))
    this.#membership.on('heartbeat_error', (e) =>
      this.emit('warning', { source: 'heartbeat', error: e.error }),
    )
    let joinedEpoch = -1
    this.#membership.on('heartbeat', (e) => {
      if (joinedEpoch <= 0 || e.memberEpoch < joinedEpoch) this.emit('joined', e)
      joinedEpoch = e.memberEpoch
    })
    this.#membership.on('heartbeat_error', (e) => {
      if (e.rejoin) joinedEpoch = 0
    })
    this.#membership.on('fatal', (error) => void this.#fail(error))
    this.#leaders = new ShareLeaders({
      cluster: this.#cluster,
      partitions: () => this.#partitions.values(),
      byId: this.#byId,
      sessionOf: (nodeId) => this.#sessions.get(nodeId),
      sessionFor: (nodeId) => this.#session(nodeId),
      warning: (error) => this.emit('warning', { source: 'session', error }),
    })
    this.#host = {
      groupId: options.groupId,
      memberId: this.#membership.memberId,
      fetch: this.#fetch,
      cluster: this.#cluster,
      partitionsLedBy: (nodeId) => [...this.#partitions.values()].filter((p) => p.leaderId === nodeId),
      partitionById: (topicId, partition) => this.#byId.get(`${topicId}:${partition}`),
      totalBuffered: () => this.totalBuffered(),
      renewEnabled: () => this.#settings.renewEnabled,
      wantsRecords: () => this.#wanted,
      demand: () => this.#demand,
      lockDuration: (ms) => {
        if (this.#warnedLock) return
        const warning = shortLockWarning(ms, this.#fetch.maxWaitMs)
        if (!warning) return
        this.#warnedLock = true
        this.emit('warning', {
          source: 'fetch',
          error: new ShareError('LOCK_TOO_SHORT', `share group "${this.groupId}": ${warning}`),
        })
      },
      nextRequestSeq: () => ++this.#requestSeq,
      recordsAdded: () => {
        this.#wanted = false
        this.#recordsAvailable.notify()
      },
      leadersStale: () => this.#leaders.stale(),
      events: this,
      fatal: (error) => void this.#fail(error),
      requestDone: () => {
        this.#sweep()
        this.#requestDone.notify()
      },
    }
  }

  /** The client-generated member id (stable for this consumer's life). */
  get memberId(): string {
    return this.#membership.memberId
  }

  get memberEpoch(): number {
    return this.#membership.memberEpoch
  }

  /**
   * The group's `share.delivery.count.limit` as last read (at start, and by
   * `currentDeliveryCountLimit()`; Kafka ≥ 4.3): a record released (or whose lock expires) on
   * this delivery is archived by the broker, not delivered again.
   * Undefined when the broker has no such group config or did not let the member read it.
   */
  get deliveryCountLimit(): number | undefined {
    return this.#settings.deliveryCountLimit
  }

  /**
   * The group's `share.delivery.count.limit` as the broker has it now (one DescribeConfigs;
   * concurrent calls share it): the limit may change while the member runs, and a decision to
   * release a record on what is its last delivery must know. Falls back to the last value read
   * when the broker does not answer.
   */
  currentDeliveryCountLimit(): Promise<number | undefined> {
    return this.#settings.currentDeliveryCountLimit()
  }

  /**
   * False where locks cannot be renewed: the group disabled RENEW
   * (`share.renew.acknowledge.enable=false`) or a partition leader has no ShareAcknowledge v2
   * (Kafka < 4.2). A record taken then must start before its lock ends.
   */
  renewsLocks(): boolean {
    if (!this.#settings.renewEnabled) return false
    for (const session of this.#sessions.values()) if (session.supportsRenew === false) return false
    return true
  }

  /** True from `start()` until `close()` (or a fatal error) begins. */
  get running(): boolean {
    return this.#state === 'running'
  }

  /** Joins the group; resolves once the coordinator accepted the member. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new ShareError('CONSUMER_CLOSED', 'a ShareConsumer can be started once')
    this.#state = 'running'
    accountBuffersInHeapLimit()
    await this.#cluster.refreshMetadata(this.#options.topics)
    await this.#settings.read()
    await this.#membership.start()
  }

  /**
   * Up to `max` acquired records, grouped per partition in offset order, spread evenly over the
   * partitions that have some (as the group consumer's fetcher takes, starting one partition
   * further each call); `limit` caps each partition's share (records left stay buffered, locked).
   * Records whose lock expired while buffered are released instead (lock_lost).
   */
  takeRecords(max = Number.POSITIVE_INFINITY, limit?: IntakeLimit): ShareRecords[] {
    // Without lock renewal, the next fetch asks for no more than this (see ShareSession).
    if (Number.isFinite(max) && max > 0) this.#demand = Math.min(max, this.#fetch.maxRecords)
    const partitions = [...this.#partitions.values()]
    const n = partitions.length
    const out = takeShareRecords(partitions, this.#roundRobin, max, limit, Date.now(), this.#taker)
    this.#roundRobin = n === 0 ? 0 : (this.#roundRobin + 1) % n
    return out
  }

  /**
   * Resolves when records may be available, after `timeoutMs`, on `interruptWait`, or at once
   * when the consumer is not running (loops check `running`). Buffered records of a partition
   * the last take's limit refused do not count: a taker that cannot take them is not woken for
   * them again and again (it would spin). With `acquireMode: 'record_limit'`
   * this is what asks for the next fetch: nothing is fetched ahead of the application (the Java
   * client fetches in `poll()` the same way), so records stay available to the other members.
   */
  async waitForRecords(timeoutMs?: number): Promise<void> {
    if (this.#state !== 'running') return
    let buffered = false
    for (const p of this.#partitions.values()) {
      if (p.buffered === 0) continue
      if (!p.refused) return
      buffered = true
    }
    if (!buffered && !this.#wanted) {
      this.#wanted = true
      for (const session of this.#sessions.values()) session.wake()
    }
    await this.#recordsAvailable.wait(timeoutMs)
  }

  /** Wakes a pending `waitForRecords`. */
  interruptWait(): void {
    this.#recordsAvailable.notify()
  }

  /**
   * Acknowledges one delivery of a record (any record this member holds, from any fetch, in any
   * order). Queued and sent with the next request of the record's share session; resolves with
   * the broker's answer (never rejects): `ok`, or `lock_lost` when the lock was gone (the record
   * may be delivered again), `failed` with the reason. A `renew` restarts the lock and resolves
   * with the new `lockDeadline`.
   */
  acknowledge(delivery: RecordDelivery, type: AcknowledgeType): Promise<AckResult> {
    return new Promise((resolve) => this.acknowledgeTo(delivery, type, new Resolver(resolve)))
  }

  /**
   * {@link acknowledge} telling `listener` the result instead of resolving a promise (no
   * allocation of its own per record: the runtime acknowledges every record). The listener is
   * told exactly once, never from inside this call — but possibly from inside a later call of
   * this consumer (another acknowledgement that supersedes a queued renewal, a request's
   * answer): it should record the result, not call back into the consumer.
   */
  acknowledgeTo(delivery: RecordDelivery, type: AcknowledgeType, listener: AckListener): void {
    if (this.#state === 'closed') {
      tellLater(listener, refused(delivery, type, 'CONSUMER_CLOSED', 'the share consumer is closed'))
      return
    }
    const p = this.#partitions.of(delivery.topic, delivery.partition)
    if (!p) {
      tellLater(listener, {
        ...pick(delivery),
        type,
        outcome: 'lock_lost',
        error: new ShareError('LOCK_LOST', `${delivery.topic}#${delivery.partition}: no lock held`),
      })
      return
    }
    if (type === 'renew') {
      const supports = this.#sessions.get(p.leaderId)?.supportsRenew
      if (supports === false || !this.#settings.renewEnabled) {
        const why =
          supports === false
            ? `broker ${p.leaderId} has no ShareAcknowledge v2 (RENEW needs Kafka ≥ 4.2)`
            : `group "${this.groupId}" has share.renew.acknowledge.enable=false`
        if (!this.#warnedRenew) {
          this.#warnedRenew = true
          this.emit('warning', { source: 'acknowledge', error: new ShareError('RENEW_UNSUPPORTED', why) })
        }
        tellLater(listener, refused(delivery, type, 'RENEW_UNSUPPORTED', why))
        return
      }
    }
    p.acknowledgeTo(delivery, type, listener)
    this.#sessions.get(p.leaderId)?.wake()
  }

  /** The current lock deadline of a delivery (moved by renewals); undefined when not held. */
  lockDeadline(delivery: RecordDelivery): number | undefined {
    return this.#partitions
      .of(delivery.topic, delivery.partition)
      ?.lockDeadline(delivery.offset, delivery.deliveryCount)
  }

  /**
   * Sends queued acknowledgements without waiting for a fetch to carry them, and resolves when
   * every acknowledgement queued so far (and any queued meanwhile) has been answered. A fetch
   * already in flight is waited for (at most `maxWaitMs`): a share session carries one request
   * at a time.
   */
  async flush(): Promise<void> {
    for (;;) {
      const waiting = [...this.#partitions.values()].filter((p) => p.hasAcks() || p.inFlightUnits > 0)
      if (waiting.length === 0 || this.#state === 'closed') return
      for (const p of waiting) this.#sessions.get(p.leaderId)?.requestFlush()
      await this.#requestDone.wait(200)
    }
  }

  /**
   * Stops acquiring records, for good: the application drains before it closes the member.
   * Buffered records are released at once (the other members get them now, not when the drain
   * ends), no partition is fetched any more, and acknowledgements and renewals of the records
   * still being processed keep going out.
   */
  stopFetching(): void {
    if (!this.#fetching) return
    this.#fetching = false
    this.#wanted = false
    for (const p of this.#partitions.values()) {
      if (!p.assigned) continue
      p.assigned = false
      p.releaseBuffered()
      this.#sessions.get(p.leaderId)?.wake()
    }
    this.#recordsAvailable.notify()
  }

  /** Partitions currently assigned. */
  assignment(): TopicPartition[] {
    return this.#membership.assignment()
  }

  /** Records buffered (acquired, not yet taken) across all partitions. */
  totalBuffered(): number {
    let n = 0
    for (const p of this.#partitions.values()) n += p.buffered
    return n
  }

  stats(): ShareConsumerStats {
    return shareStats(this.memberId, this.memberEpoch, this.#partitions.values(), this.#sessions.values())
  }

  /**
   * Stops fetching, releases every record acquired but not acknowledged (buffered ones, and
   * any the runtime did not finish), sends the queued acknowledgements and closes each share
   * session with epoch -1, leaves the group, closes connections. Drain first: acknowledge what
   * is being processed, then close.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close(false)
    return this.#closing
  }

  async #close(aborted: boolean): Promise<void> {
    const wasRunning = this.#state === 'running'
    this.#state = 'closing'
    this.#leaders.close()
    this.#recordsAvailable.notify()
    if (wasRunning) {
      for (const p of this.#partitions.values()) {
        p.assigned = false
        p.releaseAll()
      }
      await closeSessions([...this.#sessions.values()], aborted, this.#closeTimeoutMs, (error) =>
        this.emit('warning', { source: 'session', error }),
      )
      await this.#membership.leave()
    }
    await this.#cluster.close()
    loseUnsent(this.#host, this.#partitions.values(), aborted ? 'the member stopped' : 'the member closed')
    this.#state = 'closed'
    this.#requestDone.notify()
  }

  async #fail(error: Error): Promise<void> {
    const fatal =
      error instanceof ShareError
        ? error
        : new ShareError('SESSION_FATAL', error.message, { cause: error, kafkaError: undefined })
    if (this.#state === 'closing' || this.#state === 'closed') return
    this.emit('fatal', fatal)
    this.#closing ??= this.#close(fatal.code === 'SESSION_FATAL')
    await this.#closing
  }

  async #assign(partitions: TopicPartition[]): Promise<void> {
    if (this.#state !== 'running' || !this.#fetching) return
    const next = new Set(partitions.map((tp) => partitionKey(tp.topic, tp.partition)))
    const added: TopicPartition[] = []
    const removed: TopicPartition[] = []
    for (const p of this.#partitions.values()) {
      if (p.assigned && !next.has(p.key)) {
        p.assigned = false
        // Nobody will process its buffered records here: give them back now.
        p.releaseBuffered()
        removed.push({ topic: p.topic, partition: p.partition })
        this.#sessions.get(p.leaderId)?.wake()
      }
    }
    for (const tp of partitions) {
      const key = partitionKey(tp.topic, tp.partition)
      let p = this.#partitions.get(key)
      if (!p) {
        p = new SharePartition(tp.topic, tp.partition, this.#settings.lockBudget)
        this.#partitions.add(p)
      }
      if (!p.assigned) {
        p.assigned = true
        added.push(tp)
      }
    }
    this.emit('assignment', { partitions, added, removed })
    await this.#leaders.refresh()
  }

  #session(nodeId: number): ShareSession | undefined {
    let session = this.#sessions.get(nodeId)
    // No new session once closing began: close() only closes the sessions it found.
    if (!session && this.#state === 'running') {
      session = new ShareSession(nodeId, this.#host)
      this.#sessions.set(nodeId, session)
      session.start()
    }
    return session
  }

  /**
   * Removes partitions that are neither assigned nor holding anything, unless their session
   * has a request out (its answer may still bring records of them).
   */
  #sweep(): void {
    for (const p of [...this.#partitions.values()]) {
      if (p.assigned || !p.isIdle() || this.#sessions.get(p.leaderId)?.busy) continue
      this.#partitions.delete(p)
      this.#byId.delete(`${p.topicId}:${p.partition}`)
    }
  }

  #lockLost(p: SharePartition, offsets: number[], reason: string): void {
    this.emit('lock_lost', { topic: p.topic, partition: p.partition, offsets, reason })
  }
}
