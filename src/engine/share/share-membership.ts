import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { IMPLEMENTED_VERSIONS } from '../../kafka/api-versions.ts'
import * as shareGroupHeartbeatV1 from '../../kafka/apis/share-group-heartbeat-v1.ts'
import { memberAuthorizationMessage } from '../../kafka/authorization.ts'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import { errorsFlagged } from '../../kafka/protocol-errors.ts'
import { HeartbeatLoop, type HeartbeatOutcome } from '../heartbeat-loop.ts'
import type { TopicPartition } from '../types.ts'
import { partitionKey } from '../types.ts'
import { ShareError } from './errors.ts'

export interface ShareMembershipOptions {
  groupId: string
  topics: readonly string[]
  rackId?: string
}

export interface ShareMembershipEvents {
  /** A heartbeat succeeded (the first one means the member joined). */
  heartbeat: [{ memberId: string; memberEpoch: number }]
  /** The target assignment changed (topic names resolved). */
  assignment: [TopicPartition[]]
  /** A heartbeat failed; the membership retries (rejoining with epoch 0 when it was fenced). */
  heartbeat_error: [{ error: Error; errorName: string | undefined; rejoin: boolean }]
  fatal: [ShareError]
}

/** After these the member is out of the group: rejoin with epoch 0 and the same member id. */
const REJOIN = errorsFlagged('share', 'fenced')

/** No retry fixes these. */
const FATAL = errorsFlagged('share', 'fatal')

/** No retry fixes these when they answer a join (epoch 0). */
const JOIN_FATAL = errorsFlagged('share', 'joinFatal')

/**
 * A KIP-932 share-group member (ShareGroupHeartbeat v1): a client-generated member id kept for
 * the consumer's life, heartbeats at the interval the coordinator returns, the assignment
 * (partitions shared with other members: the coordinator assigns, there is nothing to revoke
 * or acknowledge), rejoining with epoch 0 after fencing, and leaving with epoch -1.
 */
export class ShareMembership extends EventEmitter<ShareMembershipEvents> {
  readonly memberId = randomUUID()
  readonly #cluster: KafkaCluster
  readonly #options: ShareMembershipOptions
  #memberEpoch = 0
  #intervalMs = 1000
  #assignment = new Map<string, TopicPartition>()
  #pendingTarget: Array<{ topicId: string; partitions: number[] }> | undefined
  #versionChecked = false
  readonly #loop: HeartbeatLoop

  constructor(cluster: KafkaCluster, options: ShareMembershipOptions) {
    super()
    this.#cluster = cluster
    this.#options = options
    this.#loop = new HeartbeatLoop(
      { beat: (coordinator) => this.#beat(coordinator), failed: (error, name) => this.#failed(error, name) },
      // Out of the group: rejoin at once; a short pause keeps a persistent error from spinning.
      { findCoordinator: () => cluster.findCoordinator(options.groupId), rejoinPauseMaxMs: 200 },
    )
  }

  get memberEpoch(): number {
    return this.#memberEpoch
  }

  get coordinatorNodeId(): number | undefined {
    return this.#loop.coordinatorNodeId
  }

  assignment(): TopicPartition[] {
    return [...this.#assignment.values()]
  }

  /** Starts heartbeating; resolves after the first successful heartbeat. */
  async start(): Promise<void> {
    await this.#loop.start()
  }

  /** Stops heartbeating and leaves the group (epoch -1); best effort. */
  async leave(): Promise<void> {
    await this.#loop.stop(
      new ShareError('CONSUMER_CLOSED', `share group "${this.#options.groupId}": closed before joining`),
    )
    const coordinator = this.#loop.coordinatorNodeId
    if (this.#memberEpoch <= 0 || coordinator === undefined) return
    try {
      const connection = await this.#cluster.connectionTo(coordinator)
      await shareGroupHeartbeatV1.api.async(connection, this.#options.groupId, this.memberId, -1, null, null)
    } catch {
      // The session timeout removes the member otherwise.
    }
    this.#memberEpoch = -1
  }

  async #beat(coordinator: number): Promise<number> {
    if (!this.#versionChecked) {
      await this.#cluster.selectVersion(
        coordinator,
        'ShareGroupHeartbeat',
        IMPLEMENTED_VERSIONS.ShareGroupHeartbeat,
      )
      this.#versionChecked = true
    }
    const connection = await this.#cluster.connectionTo(coordinator)
    const joining = this.#memberEpoch === 0
    const response = await shareGroupHeartbeatV1.api.async(
      connection,
      this.#options.groupId,
      this.memberId,
      this.#memberEpoch,
      joining ? (this.#options.rackId ?? null) : null,
      // The full subscription on every heartbeat: a lost or repeated one never leaves the
      // coordinator with a stale view.
      [...this.#options.topics],
    )
    this.#memberEpoch = response.memberEpoch
    if (response.heartbeatIntervalMs > 0) this.#intervalMs = response.heartbeatIntervalMs
    if (response.assignment) this.#pendingTarget = response.assignment.topicPartitions
    if (this.#pendingTarget) await this.#reconcile()
    this.emit('heartbeat', { memberId: this.memberId, memberEpoch: this.#memberEpoch })
    // A topic the metadata did not name yet: look again sooner.
    return this.#pendingTarget ? Math.min(this.#intervalMs, 500) : this.#intervalMs
  }

  #failed(error: unknown, name: string | undefined): HeartbeatOutcome {
    const refused =
      name !== undefined && (FATAL.has(name) || (this.#memberEpoch === 0 && JOIN_FATAL.has(name)))
    if ((error as { code?: string }).code === 'UNSUPPORTED_API_VERSION' || refused) {
      const denied = memberAuthorizationMessage(
        name,
        {
          kind: 'share',
          groupId: this.#options.groupId,
          topics: this.#options.topics,
          principal: this.#cluster.principal,
        },
        error,
      )
      const fatal = denied
        ? new ShareError('AUTHORIZATION_FAILED', denied, { cause: error, kafkaError: name })
        : new ShareError(
            'MEMBERSHIP_FATAL',
            `share group "${this.#options.groupId}": the coordinator refused the member: ${name ?? (error as Error).message}`,
            { cause: error, kafkaError: name },
          )
      this.#loop.fail(fatal)
      this.emit('fatal', fatal)
      return { action: 'fatal', error: fatal }
    }
    const rejoin = name !== undefined && REJOIN.has(name)
    this.emit('heartbeat_error', { error: error as Error, errorName: name, rejoin })
    if (!rejoin) return { action: 'retry' }
    // Out of the group: stop fetching until the coordinator assigns again.
    this.#memberEpoch = 0
    this.#pendingTarget = undefined
    this.#setAssignment(new Map())
    return { action: 'rejoin' }
  }

  /** Resolves topic ids to names; a topic the metadata does not name yet is tried again next time. */
  async #reconcile(): Promise<void> {
    const target = this.#pendingTarget!
    const names = await this.#cluster.topicNames(target.map((t) => t.topicId))
    const next = new Map<string, TopicPartition>()
    let unnamed = false
    for (const t of target) {
      const topic = names.get(t.topicId)
      if (!topic) {
        unnamed = true
        continue
      }
      for (const partition of t.partitions) next.set(partitionKey(topic, partition), { topic, partition })
    }
    if (!unnamed) this.#pendingTarget = undefined
    this.#setAssignment(next)
  }

  #setAssignment(next: Map<string, TopicPartition>): void {
    const same = next.size === this.#assignment.size && [...next.keys()].every((k) => this.#assignment.has(k))
    if (same) return
    this.#assignment = next
    this.emit('assignment', [...next.values()])
  }
}
