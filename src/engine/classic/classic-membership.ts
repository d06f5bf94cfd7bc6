import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { memberAuthorizationMessage } from '../../kafka/authorization.ts'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import { errorsFlagged, protocolErrorName } from '../../kafka/protocol-errors.ts'
import { EngineError } from '../errors.ts'
import { HeartbeatLoop, type HeartbeatOutcome } from '../heartbeat-loop.ts'
import type { ConsumerMembership, MembershipEvents, MembershipReconciler } from '../membership.ts'
import type { TopicPartition } from '../types.ts'
import { partitionKey } from '../types.ts'
import { runSliced } from './assignment-steps.ts'
import type { ClassicAssignor, RebalanceProtocol } from './assignor.ts'
import { heartbeat, joinGroup, leaveGroup, syncGroup } from './classic-requests.ts'
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription } from './consumer-protocol.ts'
import { ClassicProtocolError } from './errors.ts'
import { joinGroupProtocols, leaderAssignmentSteps } from './leader.ts'

export interface ClassicMembershipOptions {
  groupId: string
  topics: readonly string[]
  /** Static membership (group.instance.id). */
  groupInstanceId?: string
  rackId?: string
  /** How long the coordinator keeps a silent member (group.min/max.session.timeout.ms bound it). */
  sessionTimeoutMs: number
  /** How long the coordinator waits for every member to rejoin during a rebalance. */
  rebalanceTimeoutMs: number
  /** Time between heartbeats while the group is stable. */
  heartbeatIntervalMs: number
  /** Assignors in order of preference (their names are the JoinGroup protocols). */
  assignors: readonly ClassicAssignor[]
  /**
   * How often the leader compares the partition counts it assigned with the metadata, and
   * rejoins when a topic grew (default 10 s): nobody would read the new partitions otherwise.
   */
  metadataCheckIntervalMs?: number
}

const LEAVE_TIMEOUT_MS = 3000
/** A JoinGroup may be held for the whole rebalance timeout; its connection waits this much longer. */
const JOIN_TIMEOUT_MARGIN_MS = 5000
const FENCED = errorsFlagged('classic', 'fenced')
const FATAL = errorsFlagged('classic', 'fatal')
const REBALANCE = errorsFlagged('classic', 'rebalance')

/**
 * A consumer group member on the classic protocol, on the shared {@link HeartbeatLoop}: a beat
 * runs JoinGroup + SyncGroup (the leader assigning with the chosen assignor) while the member
 * must (re)join, and Heartbeat otherwise.
 *
 * Cooperative assignors (KIP-429): the member keeps consuming what it owns through a
 * rebalance; after SyncGroup it revokes only `owned − assigned` (awaited through the
 * reconciler: drain, commit) and, when it revoked any, rejoins at once so the partitions can go
 * to their new owner in the next generation. Eager assignors: everything owned is revoked before
 * JoinGroup. A member fenced (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID) loses its partitions (no
 * commit) and rejoins.
 */
export class ClassicMembership extends EventEmitter<MembershipEvents> implements ConsumerMembership {
  readonly protocol = 'classic' as const
  readonly #cluster: KafkaCluster
  readonly #options: ClassicMembershipOptions
  readonly #reconciler: MembershipReconciler
  readonly #rebalanceProtocol: RebalanceProtocol
  readonly #loop: HeartbeatLoop
  #memberId = ''
  #generationId = -1
  #needsJoin = true
  readonly #owned = new Map<string, TopicPartition>()
  #reconciling: { promise: Promise<void>; losses: number } | undefined
  /** Bumped when the partitions are lost: a reconciliation that started before must not keep what it assigned. */
  #losses = 0
  #closing = false
  /** The partition counts this member assigned with, while it leads the group. */
  #assignedCounts: Map<string, number> | undefined
  #countsCheckedAt = 0
  /**
   * JoinGroup and SyncGroup go over a connection of their own: the coordinator holds a
   * JoinGroup until every member rejoined (up to the rebalance timeout), and a broker answers a
   * connection's requests in order, so commits behind it on the control connection would wait
   * as long — a revocation's or a shutdown's commit among them.
   */
  #joinConnection:
    | { nodeId: number; connection: Awaited<ReturnType<KafkaCluster['dedicatedConnection']>> }
    | undefined

  constructor(cluster: KafkaCluster, options: ClassicMembershipOptions, reconciler: MembershipReconciler) {
    super()
    if (options.assignors.length === 0) {
      throw new EngineError('INVALID_OPTION', `group "${options.groupId}": give at least one assignor`)
    }
    this.#cluster = cluster
    this.#options = options
    this.#reconciler = reconciler
    // Java's rule: cooperative only when every assignor offered is (the group may pick any).
    this.#rebalanceProtocol = options.assignors.every((a) => a.rebalanceProtocol === 'cooperative')
      ? 'cooperative'
      : 'eager'
    this.#loop = new HeartbeatLoop(
      {
        beat: (coordinator) => this.#beat(coordinator),
        failed: (error, name) => this.#failed(error, name),
        stopped: () => this.emit('stopped'),
      },
      { findCoordinator: () => cluster.findCoordinator(options.groupId), rejoinPauseMaxMs: 0 },
    )
  }

  get memberId(): string {
    return this.#memberId
  }

  /** The generation id (what OffsetCommit carries for a classic group); -1 before the first join. */
  get memberEpoch(): number {
    return this.#generationId
  }

  get groupInstanceId(): string | null {
    return this.#options.groupInstanceId ?? null
  }

  get coordinatorNodeId(): number | undefined {
    return this.#loop.coordinatorNodeId
  }

  /** `cooperative` or `eager`, from the assignors offered. */
  get rebalanceProtocol(): RebalanceProtocol {
    return this.#rebalanceProtocol
  }

  owned(): TopicPartition[] {
    return [...this.#owned.values()]
  }

  async start(): Promise<void> {
    await this.#loop.start()
  }

  heartbeatSoon(): void {
    this.#loop.wake()
  }

  nextHeartbeat(timeoutMs: number): Promise<void> {
    return this.#loop.nextBeat(timeoutMs)
  }

  stopReconciling(): void {
    this.#closing = true
  }

  async settled(): Promise<void> {
    while (this.#reconciling) await this.#reconciling.promise.catch(() => {})
  }

  /**
   * Stops heartbeating and leaves the group (LeaveGroup), so the others rebalance at once. A
   * static member does not leave: the coordinator keeps its partitions for the same instance id
   * until the session times out (Java's consumer does the same).
   */
  async leave(): Promise<void> {
    // A JoinGroup the coordinator holds would keep the loop (and the close) waiting: cut it.
    const halted = this.#loop.stop(
      new EngineError('ENGINE_CLOSED', `group "${this.#options.groupId}": closed before joining`),
    )
    this.#dropJoinConnection()
    await halted
    const coordinator = this.#loop.coordinatorNodeId
    if (this.#options.groupInstanceId || !this.#memberId || coordinator === undefined) return
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        this.#cluster
          .connectionTo(coordinator)
          .then((c) => leaveGroup(c, this.#options.groupId, this.#memberId)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, LEAVE_TIMEOUT_MS)
        }),
      ])
    } catch {
      // Best effort: the session timeout removes the member otherwise.
    } finally {
      clearTimeout(timer)
    }
    this.#generationId = -1
  }

  async #beat(coordinator: number): Promise<number> {
    if (this.#needsJoin) return this.#join(coordinator)
    const connection = await this.#cluster.connectionTo(coordinator)
    await heartbeat(
      connection,
      this.#options.groupId,
      this.#generationId,
      this.#memberId,
      this.groupInstanceId,
    )
    this.emit('heartbeat', { memberId: this.#memberId, memberEpoch: this.#generationId })
    if (await this.#partitionsChanged()) {
      this.#needsJoin = true
      return 0
    }
    return this.#options.heartbeatIntervalMs
  }

  /** The leader's check that the topics it assigned still have as many partitions (Java's leader does it too). */
  async #partitionsChanged(): Promise<boolean> {
    const counts = this.#assignedCounts
    const every = this.#options.metadataCheckIntervalMs ?? 10_000
    if (!counts || Date.now() - this.#countsCheckedAt < every) return false
    this.#countsCheckedAt = Date.now()
    try {
      const metadata = await this.#cluster.refreshMetadata([...counts.keys()])
      return [...counts].some(([topic, n]) => (metadata.get(topic)?.partitions.length ?? n) !== n)
    } catch {
      // Metadata unavailable: the next check tries again.
      return false
    }
  }

  /** JoinGroup, the leader's assignment, SyncGroup; then reconciles what SyncGroup gave. */
  async #join(coordinator: number): Promise<number> {
    // What the subscription says is owned must be settled: a revocation still draining is
    // finished first (the coordinator waits up to the rebalance timeout for this JoinGroup).
    const running = this.#reconciling
    if (running && running.losses === this.#losses) await running.promise.catch(() => {})
    if (this.#rebalanceProtocol === 'eager' && this.#owned.size > 0) {
      const all = this.owned()
      await this.#reconciler.revoke(all, false)
      for (const tp of all) this.#owned.delete(partitionKey(tp.topic, tp.partition))
    }
    const o = this.#options
    const connection = await this.#joinConnectionTo(coordinator)
    const owned = new Map<string, number[]>()
    for (const tp of this.#owned.values()) owned.set(tp.topic, [...(owned.get(tp.topic) ?? []), tp.partition])
    const join = await joinGroup(
      connection,
      {
        groupId: o.groupId,
        sessionTimeoutMs: o.sessionTimeoutMs,
        rebalanceTimeoutMs: o.rebalanceTimeoutMs,
        memberId: this.#memberId,
        groupInstanceId: this.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols: joinGroupProtocols(o.assignors, {
          topics: o.topics,
          generationId: this.#generationId,
          ownedPartitions: [...owned].map(([topic, partitions]) => ({ topic, partitions })),
          rackId: o.rackId ?? null,
        }),
      },
      (memberId) => {
        this.#memberId = memberId
      },
    )
    this.#assignedCounts = undefined
    const assignments =
      join.leader === this.#memberId && !join.skipAssignment ? await this.#leaderAssign(join) : []
    const sync = await syncGroup(
      connection,
      o.groupId,
      join.generationId,
      this.#memberId,
      this.groupInstanceId,
      CONSUMER_PROTOCOL_TYPE,
      join.protocolName ?? null,
      assignments,
    )
    const assigned = sync.assignment.length > 0 ? decodeAssignment(sync.assignment).assignedPartitions : []
    this.#generationId = join.generationId
    this.#needsJoin = false
    const target = new Map<string, TopicPartition>()
    for (const { topic, partitions } of assigned)
      for (const partition of partitions) target.set(partitionKey(topic, partition), { topic, partition })
    this.#startReconcile(target)
    this.emit('heartbeat', { memberId: this.#memberId, memberEpoch: this.#generationId })
    return this.#options.heartbeatIntervalMs
  }

  /** The leader's step: every member's subscription, partition counts from metadata, the assignor. */
  async #leaderAssign(join: Awaited<ReturnType<typeof joinGroup>>) {
    const topics = new Set<string>()
    for (const member of join.members) {
      try {
        for (const t of decodeSubscription(member.metadata).topics) topics.add(t)
      } catch {
        // leaderAssignment names the member whose metadata does not decode.
      }
    }
    const metadata = await this.#cluster.refreshMetadata([...topics])
    const counts = new Map<string, number>()
    for (const [name, meta] of metadata) counts.set(name, meta.partitions.length)
    this.#assignedCounts = counts
    this.#countsCheckedAt = Date.now()
    return runSliced(
      leaderAssignmentSteps(
        join.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId ?? null,
          metadata: m.metadata,
        })),
        join.protocolName ?? '',
        counts,
        this.#options.assignors,
      ),
    )
  }

  async #joinConnectionTo(nodeId: number) {
    if (this.#joinConnection?.nodeId !== nodeId) {
      this.#dropJoinConnection()
      const timeoutMs = Math.max(
        this.#cluster.requestTimeoutMs,
        this.#options.rebalanceTimeoutMs + JOIN_TIMEOUT_MARGIN_MS,
      )
      this.#joinConnection = {
        nodeId,
        connection: await this.#cluster.dedicatedConnection(nodeId, timeoutMs),
      }
    }
    return this.#joinConnection.connection
  }

  #dropJoinConnection(): void {
    const current = this.#joinConnection
    this.#joinConnection = undefined
    void current?.connection.close().catch(() => {})
  }

  async #failed(error: unknown, name: string | undefined): Promise<HeartbeatOutcome> {
    if (name && REBALANCE.has(name)) {
      // Not a failure: the coordinator asks every member to rejoin (reported as nothing, since
      // warnings become error events). KIP-429: keep consuming what is owned; the next beat
      // rejoins (an eager member revokes first).
      this.#needsJoin = true
      return { action: 'rejoin' }
    }
    this.emit('heartbeat_error', { error: error as Error, errorName: name })
    // A failed request may have left the join connection unusable (timed out, reset): a new one next time.
    if (!name) this.#dropJoinConnection()
    if (error instanceof ClassicProtocolError || (name && FATAL.has(name))) {
      const denied = memberAuthorizationMessage(
        name,
        {
          kind: 'consumer',
          groupId: this.#options.groupId,
          topics: this.#options.topics,
          principal: this.#cluster.principal,
        },
        error,
      )
      const fatal = denied
        ? new EngineError('AUTHORIZATION_FAILED', denied, { cause: error })
        : new EngineError(
            'MEMBERSHIP_FATAL',
            `group "${this.#options.groupId}": the coordinator refused the member: ${name ?? (error as Error).message}` +
              (name === 'FENCED_INSTANCE_ID'
                ? ` (another process joined with groupInstanceId "${this.#options.groupInstanceId}")`
                : ''),
            { cause: error },
          )
      this.#loop.fail(fatal)
      this.emit('fatal', fatal)
      return { action: 'fatal', error: fatal }
    }
    if (name && FENCED.has(name)) {
      // Our partitions may belong to others already: drop them without committing, join again.
      if (name === 'UNKNOWN_MEMBER_ID') this.#memberId = ''
      this.#generationId = -1
      this.#needsJoin = true
      await this.#loseAll()
      return { action: 'rejoin' }
    }
    return { action: 'retry' }
  }

  async #loseAll(): Promise<void> {
    this.#losses++
    const lost = this.owned()
    this.#owned.clear()
    if (lost.length > 0) await this.#reconciler.revoke(lost, true)
  }

  #startReconcile(target: Map<string, TopicPartition>): void {
    if (this.#closing) return
    const losses = this.#losses
    const previous = this.#reconciling?.promise
    const promise = (async () => {
      if (previous) await previous.catch(() => {})
      await this.#reconcile(target, losses)
    })()
    const entry = { promise, losses }
    this.#reconciling = entry
    promise.then(
      () => {
        if (this.#reconciling === entry) this.#reconciling = undefined
      },
      (error: unknown) => {
        if (this.#reconciling === entry) this.#reconciling = undefined
        if (error instanceof EngineError && error.code === 'ASSIGNMENT_REFUSED') {
          this.#loop.fail(error)
          this.emit('fatal', error)
          return
        }
        // E.g. committed offsets could not be read: rejoin, which reconciles again.
        this.emit('heartbeat_error', { error: error as Error, errorName: protocolErrorName(error) })
        void sleep(500).then(() => {
          if (this.#closing || this.#loop.stopped) return
          this.#needsJoin = true
          this.heartbeatSoon()
        })
      },
    )
  }

  async #reconcile(target: Map<string, TopicPartition>, losses: number): Promise<void> {
    const revoked = [...this.#owned].filter(([k]) => !target.has(k)).map(([, tp]) => tp)
    const added = [...target].filter(([k]) => !this.#owned.has(k)).map(([, tp]) => tp)
    if (revoked.length > 0) {
      await this.#reconciler.revoke(revoked, false)
      if (losses !== this.#losses) return
      for (const tp of revoked) this.#owned.delete(partitionKey(tp.topic, tp.partition))
      // KIP-429: the revoked partitions reach their new owner in the next generation.
      this.#needsJoin = true
      this.heartbeatSoon()
    }
    if (added.length > 0 && !this.#loop.stopped && !this.#closing) {
      await this.#reconciler.assign(added)
      if (losses !== this.#losses) {
        await this.#reconciler.revoke(added, true)
        return
      }
      for (const tp of added) this.#owned.set(partitionKey(tp.topic, tp.partition), tp)
    }
  }
}
