import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { offsetCommitV9 } from '@platformatic/kafka'
import type { KafkaCluster } from '../kafka/cluster.ts'
import {
  COORDINATOR_BUSY,
  COORDINATOR_MOVED,
  kafkaErrorName,
  protocolErrorName,
  responseOf,
} from '../kafka/protocol-errors.ts'
import { EngineError } from './errors.ts'
import type { GroupMembership } from './group-membership.ts'
import type { OffsetToCommit } from './types.ts'

export interface CommitterEvents {
  committed: [{ offsets: OffsetToCommit[]; durationMs: number }]
  commit_failed: [{ offsets: OffsetToCommit[]; error: EngineError }]
}

/** Partition errors a retry can fix. */
const RETRIABLE = new Set([
  ...COORDINATOR_MOVED,
  ...COORDINATOR_BUSY,
  'STALE_MEMBER_EPOCH',
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_TOPIC_OR_PARTITION',
])

/**
 * OffsetCommit v9 with the member epoch and a metadata string per partition. Commits are
 * sent one at a time in call order, so an older commit can never land after a newer one;
 * retriable errors are retried until `requestTimeoutMs` has passed.
 */
export class Committer extends EventEmitter<CommitterEvents> {
  readonly #cluster: KafkaCluster
  readonly #membership: GroupMembership
  readonly #groupId: string
  #tail: Promise<void> = Promise.resolve()

  constructor(cluster: KafkaCluster, membership: GroupMembership, groupId: string) {
    super()
    this.#cluster = cluster
    this.#membership = membership
    this.#groupId = groupId
  }

  /** Commits `offsets`; resolves when the broker accepted all of them, rejects with COMMIT_FAILED. */
  commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    const list = [...offsets]
    const run = this.#tail.then(() => this.#commitWithRetries(list))
    this.#tail = run.catch(() => {})
    return run
  }

  async #commitWithRetries(offsets: OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return
    const started = performance.now()
    const deadline = Date.now() + this.#cluster.requestTimeoutMs
    let backoffMs = 50
    for (;;) {
      const errorName = await this.#commitOnce(offsets)
      if (errorName === undefined) {
        this.emit('committed', { offsets, durationMs: performance.now() - started })
        return
      }
      if (!RETRIABLE.has(errorName) || Date.now() > deadline) {
        const error = new EngineError(
          'COMMIT_FAILED',
          `commit for group "${this.#groupId}" failed: ${errorName}` +
            (errorName === 'OFFSET_METADATA_TOO_LARGE'
              ? ' (metadata exceeds offset.metadata.max.bytes)'
              : ''),
        )
        this.emit('commit_failed', { offsets, error })
        throw error
      }
      if (errorName === 'STALE_MEMBER_EPOCH') await this.#membership.nextHeartbeat()
      else await sleep(backoffMs)
      backoffMs = Math.min(backoffMs * 2, 1000)
    }
  }

  /** One attempt; returns the first error name, or undefined on success. */
  async #commitOnce(offsets: OffsetToCommit[]): Promise<string | undefined> {
    const nodeId = this.#membership.coordinatorNodeId
    if (nodeId === undefined) return 'COORDINATOR_NOT_AVAILABLE'
    const byTopic = new Map<string, offsetCommitV9.OffsetCommitRequestPartition[]>()
    for (const o of offsets) {
      const list = byTopic.get(o.topic) ?? []
      list.push({
        partitionIndex: o.partition,
        committedOffset: BigInt(o.offset),
        committedLeaderEpoch: o.leaderEpoch ?? -1,
        committedMetadata: o.metadata ?? null,
      })
      byTopic.set(o.topic, list)
    }
    let response: offsetCommitV9.OffsetCommitResponse | undefined
    try {
      const connection = await this.#cluster.connectionTo(nodeId)
      response = await offsetCommitV9.api.async(
        connection,
        this.#groupId,
        this.#membership.memberEpoch,
        this.#membership.memberId,
        this.#membership.groupInstanceId,
        [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      )
    } catch (error) {
      response = responseOf<offsetCommitV9.OffsetCommitResponse>(error)
      if (!response) return protocolErrorName(error) ?? 'NETWORK_EXCEPTION'
    }
    for (const t of response.topics)
      for (const p of t.partitions) if (p.errorCode !== 0) return kafkaErrorName(p.errorCode)
    return undefined
  }
}
