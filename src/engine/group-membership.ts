import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { consumerGroupHeartbeatV1 } from '@platformatic/kafka'
import { memberAuthorizationMessage } from '../kafka/authorization.ts'
import type { KafkaCluster } from '../kafka/cluster.ts'
import { errorsFlagged, protocolErrorName } from '../kafka/protocol-errors.ts'
import { EngineError } from './errors.ts'
import { HeartbeatLoop, type HeartbeatOutcome } from './heartbeat-loop.ts'
import type { ConsumerMembership, MembershipEvents, MembershipReconciler } from './membership.ts'
import type { TopicPartition } from './types.ts'
import { partitionKey } from './types.ts'

export interface MembershipOptions {
  groupId: string
  /** Subscribed topic names (or use `topicPattern`). */
  topics?: readonly string[]
  /** A server-side (RE2/J) regular expression of topic names. */
  topicPattern?: string
  /** Static membership: a stable id per process instance. */
  groupInstanceId?: string
  rackId?: string
  /** How long the coordinator waits for a revocation to be acknowledged (default 60 s). */
  rebalanceTimeoutMs: number
  /** Server-side assignor (`uniform` or `range`); broker default when unset. */
  serverAssignor?: string
}

/** How long leaving may take before it is given up (the session timeout removes the member then). */
const LEAVE_TIMEOUT_MS = 3000

/** Errors after which this member lost its partitions and must join again with epoch 0. */
const FENCED = errorsFlagged('consumer', 'fenced')

/** Errors that no retry fixes. */
const FATAL = errorsFlagged('consumer', 'fatal')

/** Errors that no retry fixes when they answer a join (epoch 0). */
const JOIN_FATAL = errorsFlagged('consumer', 'joinFatal')

/**
 * A KIP-848 consumer group member (ConsumerGroupHeartbeat v1): joins, heartbeats at the
 * interval the coordinator returns, reconciles server-side assignments (revocations first,
 * each awaited through the reconciler), handles fencing and coordinator moves, and leaves.
 * Every heartbeat carries the full member state, so a lost or repeated heartbeat never
 * leaves the coordinator with a stale view.
 */
export class GroupMembership extends EventEmitter<MembershipEvents> implements ConsumerMembership {
  readonly protocol = 'consumer' as const
  readonly memberId = randomUUID()
  readonly #cluster: KafkaCluster
  readonly #options: MembershipOptions
  readonly #reconciler: MembershipReconciler
  #memberEpoch = 0
  #intervalMs = 1000
  /** Partitions owned (assigned and reconciled), by key. */
  readonly #owned = new Map<string, TopicPartition>()
  #targetIds: Array<{ topicId: string; partitions: number[] }> | undefined
  #reconciling: Promise<void> | undefined
  readonly #loop: HeartbeatLoop
  /** Closing: no new reconciliation starts, and a failed one is not retried. */
  #closing = false
  /** Bumped when the member is fenced: a reconciliation that started before must not add what it assigned. */
  #generation = 0

  constructor(cluster: KafkaCluster, options: MembershipOptions, reconciler: MembershipReconciler) {
    super()
    this.#cluster = cluster
    this.#options = options
    this.#reconciler = reconciler
    this.#loop = new HeartbeatLoop(
      {
        beat: (coordinator) => this.#beat(coordinator),
        failed: (error, name) => this.#failed(error, name),
        stopped: () => this.emit('stopped'),
      },
      // Fenced: rejoin at once (the partitions were already given up).
      { findCoordinator: () => cluster.findCoordinator(options.groupId), rejoinPauseMaxMs: 0 },
    )
  }

  get memberEpoch(): number {
    return this.#memberEpoch
  }

  get groupInstanceId(): string | null {
    return this.#options.groupInstanceId ?? null
  }

  /** The coordinator's node id (after the first successful heartbeat). */
  get coordinatorNodeId(): number | undefined {
    return this.#loop.coordinatorNodeId
  }

  owned(): TopicPartition[] {
    return [...this.#owned.values()]
  }

  /** Starts heartbeating; resolves after the first successful heartbeat (the member joined). */
  async start(): Promise<void> {
    await this.#loop.start()
  }

  /** Asks for a heartbeat now (e.g. to acknowledge a finished reconciliation promptly). */
  heartbeatSoon(): void {
    this.#loop.wake()
  }

  /**
   * Waits for the next heartbeat response (used by commits that hit STALE_MEMBER_EPOCH), at
   * most `timeoutMs`; resolves at once when the membership has stopped.
   */
  nextHeartbeat(timeoutMs: number): Promise<void> {
    return this.#loop.nextBeat(timeoutMs)
  }

  /**
   * Stops heartbeating and leaves the group (epoch -1; -2 for a static member, which keeps
   * its assignment for a quick restart). Call after the owned partitions were revoked.
   */
  async leave(): Promise<void> {
    // Closed before the first successful heartbeat (e.g. UNRELEASED_INSTANCE_ID retried):
    // start() must not stay pending forever. A no-op once joined.
    await this.#loop.stop(
      new EngineError('ENGINE_CLOSED', `group "${this.#options.groupId}": closed before joining`),
    )
    const coordinator = this.#loop.coordinatorNodeId
    if (this.#memberEpoch <= 0 || coordinator === undefined) return
    const epoch = this.#options.groupInstanceId ? -2 : -1
    let timer: NodeJS.Timeout | undefined
    try {
      // Leaving is best effort, and bounded: the session timeout removes the member otherwise.
      await Promise.race([
        this.#cluster.connectionTo(coordinator).then((connection) => this.#send(connection, epoch)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, LEAVE_TIMEOUT_MS)
        }),
      ])
    } catch {
      // As above.
    } finally {
      clearTimeout(timer)
    }
    this.#memberEpoch = epoch
  }

  #fatal(error: EngineError): void {
    this.#loop.fail(error)
    this.emit('fatal', error)
  }

  async #send(connection: Awaited<ReturnType<KafkaCluster['connectionTo']>>, epoch: number) {
    const o = this.#options
    const owned = new Map<string, number[]>()
    for (const tp of this.#owned.values()) {
      const topicId = this.#cluster.topicByName(tp.topic)?.topicId
      if (topicId) owned.set(topicId, [...(owned.get(topicId) ?? []), tp.partition])
    }
    return consumerGroupHeartbeatV1.api.async(
      connection,
      o.groupId,
      this.memberId,
      epoch,
      o.groupInstanceId ?? null,
      o.rackId ?? null,
      epoch < 0 ? -1 : o.rebalanceTimeoutMs,
      o.topicPattern || epoch < 0 ? null : [...(o.topics ?? [])],
      epoch < 0 ? null : (o.topicPattern ?? null),
      epoch < 0 ? null : (o.serverAssignor ?? null),
      epoch < 0 ? null : [...owned].map(([topicId, partitions]) => ({ topicId, partitions })),
    )
  }

  async #beat(coordinator: number): Promise<number> {
    const connection = await this.#cluster.connectionTo(coordinator)
    const response = await this.#send(connection, this.#memberEpoch)
    this.#memberEpoch = response.memberEpoch
    this.#intervalMs = response.heartbeatIntervalMs > 0 ? response.heartbeatIntervalMs : this.#intervalMs
    if (response.assignment) {
      this.#targetIds = response.assignment.topicPartitions
      this.#startReconcile()
    }
    this.emit('heartbeat', { memberId: this.memberId, memberEpoch: this.#memberEpoch })
    return this.#intervalMs
  }

  async #failed(error: unknown, name: string | undefined): Promise<HeartbeatOutcome> {
    this.emit('heartbeat_error', { error: error as Error, errorName: name })
    if (name && (FATAL.has(name) || (this.#memberEpoch === 0 && JOIN_FATAL.has(name)))) {
      const denied = memberAuthorizationMessage(
        name,
        {
          kind: 'consumer',
          groupId: this.#options.groupId,
          topics: this.#options.topics ?? [],
          principal: this.#cluster.principal,
        },
        error,
      )
      const fatal = denied
        ? new EngineError('AUTHORIZATION_FAILED', denied, { cause: error })
        : new EngineError(
            'MEMBERSHIP_FATAL',
            `group "${this.#options.groupId}": the coordinator refused the member: ${name}`,
            { cause: error },
          )
      this.#fatal(fatal)
      return { action: 'fatal', error: fatal }
    }
    if (name && FENCED.has(name)) {
      // Our partitions now belong to others: drop them without committing, rejoin at once.
      this.#memberEpoch = 0
      this.#targetIds = undefined
      await this.#loseAll()
      return { action: 'rejoin' }
    }
    return { action: 'retry' }
  }

  /**
   * Fenced: every partition this member owns, including ones a running reconciliation is still
   * revoking, is lost. That reconciliation is not awaited (it may be draining for up to the
   * revoke timeout); the reconciler cuts its drain short, and the member rejoins at once.
   */
  async #loseAll(): Promise<void> {
    this.#generation++
    const lost = this.owned()
    this.#owned.clear()
    if (lost.length > 0) await this.#reconciler.revoke(lost, true)
  }

  /** Lets the running reconciliation finish, starts no other (the consumer is closing). */
  stopReconciling(): void {
    this.#closing = true
  }

  /** Runs reconciliations one at a time; a newer target replaces a queued one. */
  #startReconcile(): void {
    if (this.#reconciling || this.#closing) return
    this.#reconciling = (async () => {
      try {
        while (this.#targetIds && !this.#loop.stopped && !this.#closing) {
          const target = this.#targetIds
          this.#targetIds = undefined
          try {
            await this.#reconcile(target)
          } catch (error) {
            if (error instanceof EngineError && error.code === 'ASSIGNMENT_REFUSED') {
              // The processing layer cannot take these partitions (e.g. a routing mismatch):
              // retrying would refuse them again.
              this.#fatal(error)
              return
            }
            // E.g. committed offsets could not be read: try the same target again shortly,
            // unless a newer one arrived meanwhile.
            this.emit('heartbeat_error', { error: error as Error, errorName: protocolErrorName(error) })
            await sleep(500)
            if (!this.#closing) this.#targetIds ??= target
          }
        }
      } finally {
        this.#reconciling = undefined
      }
    })()
  }

  async #reconcile(target: Array<{ topicId: string; partitions: number[] }>): Promise<void> {
    const names = await this.#cluster.topicNames(target.map((t) => t.topicId))
    const wanted = new Map<string, TopicPartition>()
    let unnamed = false
    for (const t of target) {
      const topic = names.get(t.topicId)
      if (!topic) {
        unnamed = true
        continue
      }
      for (const partition of t.partitions) wanted.set(partitionKey(topic, partition), { topic, partition })
    }
    const revoked = [...this.#owned].filter(([k]) => !wanted.has(k)).map(([, tp]) => tp)
    const added = [...wanted].filter(([k]) => !this.#owned.has(k)).map(([, tp]) => tp)
    const generation = this.#generation
    if (revoked.length > 0) {
      await this.#reconciler.revoke(revoked, false)
      // Fenced meanwhile: the partitions were lost, and the target is out of date.
      if (generation !== this.#generation) return
      for (const tp of revoked) this.#owned.delete(partitionKey(tp.topic, tp.partition))
      this.heartbeatSoon()
    }
    if (added.length > 0 && !this.#loop.stopped && !this.#closing) {
      await this.#reconciler.assign(added)
      if (generation !== this.#generation) {
        // Assigned to the epoch that was fenced: they are not ours.
        await this.#reconciler.revoke(added, true)
        return
      }
      for (const tp of added) this.#owned.set(partitionKey(tp.topic, tp.partition), tp)
      this.heartbeatSoon()
    }
    if (unnamed) {
      // A topic id the metadata does not name yet (just created): try again shortly.
      await sleep(500)
      this.#targetIds ??= target
    }
  }

  /** Waits until no reconciliation is running. */
  async settled(): Promise<void> {
    while (this.#reconciling) await this.#reconciling.catch(() => {})
  }
}
