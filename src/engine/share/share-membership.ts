import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { IMPLEMENTED_VERSIONS } from '../../kafka/api-versions.ts'
import * as shareGroupHeartbeatV1 from '../../kafka/apis/share-group-heartbeat-v1.ts'
import { memberAuthorizationMessage } from '../../kafka/authorization.ts'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import {
  COORDINATOR_BUSY,
  COORDINATOR_MOVED,
  errorsFlagged,
  protocolErrorName,
} from '../../kafka/protocol-errors.ts'
import type { TopicPartition } from '../types.ts'
import { partitionKey } from '../types.ts'
import { WakeSignal } from '../wake-signal.ts'
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
  #coordinator: number | undefined
  #intervalMs = 1000
  #assignment = new Map<string, TopicPartition>()
  #pendingTarget: Array<{ topicId: string; partitions: number[] }> | undefined
  readonly #wake = new WakeSignal()
  #stopped = false
  #loop: Promise<void> | undefined
  readonly #joined: { resolve: () => void; reject: (e: Error) => void; promise: Promise<void> }

  constructor(cluster: KafkaCluster, options: ShareMembershipOptions) {
    super()
    this.#cluster = cluster
    this.#options = options
    let resolve!: () => void
    let reject!: (e: Error) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    promise.catch(() => {})
    this.#joined = { resolve, reject, promise }
  }

  get memberEpoch(): number {
    return this.#memberEpoch
  }

  get coordinatorNodeId(): number | undefined {
    return this.#coordinator
  }

  assignment(): TopicPartition[] {
    return [...this.#assignment.values()]
  }

  /** Starts heartbeating; resolves after the first successful heartbeat. */
  async start(): Promise<void> {
    this.#loop ??= this.#run()
    await this.#joined.promise
  }

  /** Stops heartbeating and leaves the group (epoch -1); best effort. */
  async leave(): Promise<void> {
    this.#stopped = true
    this.#wake.notify()
    await this.#loop
    this.#joined.reject(
      new ShareError('CONSUMER_CLOSED', `share group "${this.#options.groupId}": closed before joining`),
    )
    if (this.#memberEpoch <= 0 || this.#coordinator === undefined) return
    try {
      const connection = await this.#cluster.connectionTo(this.#coordinator)
      await shareGroupHeartbeatV1.api.async(connection, this.#options.groupId, this.memberId, -1, null, null)
    } catch {
      // The session timeout removes the member otherwise.
    }
    this.#memberEpoch = -1
  }

  async #run(): Promise<void> {
    let backoffMs = 100
    let versionChecked = false
    while (!this.#stopped) {
      try {
        if (this.#coordinator === undefined) {
          this.#coordinator = (await this.#cluster.findCoordinator(this.#options.groupId)).nodeId
        }
        if (!versionChecked) {
          await this.#cluster.selectVersion(
            this.#coordinator,
            'ShareGroupHeartbeat',
            IMPLEMENTED_VERSIONS.ShareGroupHeartbeat,
          )
          versionChecked = true
        }
        const connection = await this.#cluster.connectionTo(this.#coordinator)
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
        backoffMs = 100
        this.#memberEpoch = response.memberEpoch
        if (response.heartbeatIntervalMs > 0) this.#intervalMs = response.heartbeatIntervalMs
        if (response.assignment) this.#pendingTarget = response.assignment.topicPartitions
        if (this.#pendingTarget) await this.#reconcile()
        this.emit('heartbeat', { memberId: this.memberId, memberEpoch: this.#memberEpoch })
        this.#joined.resolve()
      } catch (error) {
        const name = protocolErrorName(error)
        if ((error as { code?: string }).code === 'UNSUPPORTED_API_VERSION' || (name && FATAL.has(name))) {
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
          this.#stopped = true
          this.#joined.reject(fatal)
          this.emit('fatal', fatal)
          return
        }
        const rejoin = name !== undefined && REJOIN.has(name)
        this.emit('heartbeat_error', { error: error as Error, errorName: name, rejoin })
        if (rejoin) {
          // Out of the group: stop fetching until the coordinator assigns again; rejoin at once
          // (a short pause only keeps a persistent error from spinning).
          this.#memberEpoch = 0
          this.#pendingTarget = undefined
          this.#setAssignment(new Map())
          await sleep(Math.min(backoffMs, 200))
          backoffMs = Math.min(backoffMs * 2, 5000)
          continue
        }
        if (!name || COORDINATOR_MOVED.has(name) || !COORDINATOR_BUSY.has(name)) this.#coordinator = undefined
        await sleep(backoffMs)
        backoffMs = Math.min(backoffMs * 2, 5000)
        continue
      }
      await this.#wake.wait(this.#pendingTarget ? Math.min(this.#intervalMs, 500) : this.#intervalMs)
    }
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
