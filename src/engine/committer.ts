import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { offsetCommitV9 } from '@platformatic/kafka'
import type { KafkaCluster } from '../kafka/cluster.ts'
import { errorsFlagged, kafkaErrorName, protocolErrorName, responseOf } from '../kafka/protocol-errors.ts'
import { EngineError } from './errors.ts'
import type { OffsetToCommit, TopicPartition } from './types.ts'

export interface CommitterEvents {
  committed: [{ offsets: OffsetToCommit[]; durationMs: number }]
  commit_failed: [{ offsets: OffsetToCommit[]; error: EngineError }]
}

/** Partition errors a retry can fix, per protocol. */
const RETRIABLE = {
  consumer: errorsFlagged('consumer', 'retriable'),
  classic: errorsFlagged('classic', 'retriable'),
} as const

/** What the committer needs of the group membership. */
export interface CommitMember {
  readonly memberId: string
  /** KIP-848: the member epoch; classic: the generation id (OffsetCommit sends either in one field). */
  readonly memberEpoch: number
  readonly groupInstanceId: string | null
  readonly coordinatorNodeId: number | undefined
  /** Resolves after the next heartbeat, when heartbeating stopped, or after `timeoutMs`. */
  nextHeartbeat(timeoutMs: number): Promise<void>
}

/** One OffsetCommit attempt: the first partition error's name, or undefined on success. */
export type SendCommit = (
  coordinatorNodeId: number,
  member: CommitMember,
  offsets: readonly OffsetToCommit[],
) => Promise<string | undefined>

export interface CommitterOptions {
  groupId: string
  member: CommitMember
  /**
   * True while the member may commit for a partition (owned, or being revoked). Checked before
   * every attempt, not only when the commit was asked for: a commit that waited behind a
   * retrying one must not rewind a partition another member owns by now.
   */
  owns(partition: TopicPartition): boolean
  /** How long retriable errors are retried. */
  requestTimeoutMs: number
  send: SendCommit
  /**
   * The group protocol, which decides what a retry fixes (default `consumer`). Classic:
   * REBALANCE_IN_PROGRESS is retried; ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID fail the commit
   * (the member lost its partitions; their records are redelivered).
   */
  protocol?: 'consumer' | 'classic' | (() => 'consumer' | 'classic')
}

/**
 * OffsetCommit v9 with the member epoch (classic: the generation id) and a metadata string per partition. Commits are
 * sent one at a time in call order, so an older commit can never land after a newer one;
 * retriable errors are retried until `requestTimeoutMs` has passed.
 */
export class Committer extends EventEmitter<CommitterEvents> {
  readonly #options: CommitterOptions
  #tail: Promise<void> = Promise.resolve()

  constructor(options: CommitterOptions) {
    super()
    this.#options = options
  }

  /**
   * Commits `offsets` of partitions the member still owns when the request goes out; resolves
   * when the broker accepted them, rejects with COMMIT_FAILED.
   */
  commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    const list = [...offsets]
    const run = this.#tail.then(() => this.#commitWithRetries(list))
    this.#tail = run.catch(() => {})
    return run
  }

  async #commitWithRetries(requested: OffsetToCommit[]): Promise<void> {
    const { member, requestTimeoutMs, groupId } = this.#options
    const started = performance.now()
    const deadline = Date.now() + requestTimeoutMs
    let backoffMs = 50
    for (;;) {
      const offsets = requested.filter((o) => this.#options.owns(o))
      if (offsets.length === 0) return
      const nodeId = member.coordinatorNodeId
      const errorName =
        nodeId === undefined ? 'COORDINATOR_NOT_AVAILABLE' : await this.#options.send(nodeId, member, offsets)
      if (errorName === undefined) {
        this.emit('committed', { offsets, durationMs: performance.now() - started })
        return
      }
      const remaining = deadline - Date.now()
      const p = this.#options.protocol
      const protocol = typeof p === 'function' ? p() : (p ?? 'consumer')
      if (!RETRIABLE[protocol].has(errorName) || remaining <= 0) {
        const error = new EngineError(
          'COMMIT_FAILED',
          `commit for group "${groupId}" failed: ${errorName}` +
            (errorName === 'OFFSET_METADATA_TOO_LARGE'
              ? ' (metadata exceeds offset.metadata.max.bytes)'
              : ''),
        )
        this.emit('commit_failed', { offsets, error })
        throw error
      }
      if (errorName === 'STALE_MEMBER_EPOCH') await member.nextHeartbeat(remaining)
      else await sleep(Math.min(backoffMs, remaining))
      backoffMs = Math.min(backoffMs * 2, 1000)
    }
  }
}

/** Sends one OffsetCommit v9 over the cluster's control connection to the coordinator. */
export function offsetCommitSender(cluster: KafkaCluster, groupId: string): SendCommit {
  return async (nodeId, member, offsets) => {
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
      const connection = await cluster.connectionTo(nodeId)
      response = await offsetCommitV9.api.async(
        connection,
        groupId,
        member.memberEpoch,
        member.memberId,
        member.groupInstanceId,
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
