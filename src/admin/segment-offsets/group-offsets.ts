/**
 * A group's committed offsets, read and written with their metadata by a client that is not a
 * member of the group (an "admin commit").
 *
 * Writing: OffsetCommit v9 with member epoch -1, an empty member id and no instance id. Kafka's
 * group coordinator (4.x, OffsetMetadataManager.validateOffsetCommit and
 * ConsumerGroup.validateOffsetCommit) accepts such a commit when
 * - the group does not exist: it creates a "simple" (classic, Empty) group holding the offsets,
 *   which a KIP-848 member later joins (the group becomes a consumer group, offsets kept);
 * - the group exists and has no members (a consumer group or a classic one, state Empty);
 * and refuses it with UNKNOWN_MEMBER_ID while the group has members (a member epoch ≥ 0 with
 * an empty member id is refused the same way). Verified on the real broker by
 * test/integration/segments/admin-commit.test.ts. `@platformatic/kafka`'s
 * `Admin.alterConsumerGroupOffsets` would do the same but writes null metadata, losing the
 * offset map and the routing fingerprint.
 */
import { offsetCommitV9 } from '@platformatic/kafka'
import { fetchCommittedOffsets } from '../../engine/offset-resolver.ts'
import type { TopicPartition } from '../../engine/types.ts'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import {
  COORDINATOR_BUSY,
  COORDINATOR_MOVED,
  kafkaErrorName,
  protocolErrorName,
  responseOf,
} from '../../kafka/protocol-errors.ts'
import { SegmentOffsetsError, type SegmentOffsetsErrorCode } from './errors.ts'

/** A committed offset and its metadata. */
export interface Committed {
  offset: number
  metadata: string | null
}

/** `topic#partition`: the key of committed offsets by partition (as Karafka prints them). */
export function tpKey(topic: string, partition: number): string {
  return `${topic}#${partition}`
}

/** The group's committed offsets of these partitions (partitions without one are left out). */
export async function readCommittedOffsets(
  cluster: KafkaCluster,
  group: string,
  partitions: readonly TopicPartition[],
): Promise<Map<string, Committed>> {
  return withCoordinator(cluster, group, 'OFFSETS_READ_FAILED', 'Reading the offsets of', async (nodeId) => {
    try {
      return await fetchCommittedOffsets(cluster, nodeId, group, partitions)
    } catch (error) {
      throw new SegmentOffsetsError(
        'OFFSETS_READ_FAILED',
        `Reading the committed offsets of consumer group ${group} failed: ${(error as Error).message}`,
        { cause: error },
      )
    }
  })
}

/** One offset to write: the next offset to consume, with its metadata. */
export interface OffsetWrite extends TopicPartition {
  offset: number
  metadata: string
}

/**
 * Commits `offsets` for `group` as an admin (member epoch -1, no member id). The group must
 * have no members; throws OFFSETS_WRITE_FAILED naming the group, the partition and Kafka's
 * error otherwise.
 */
export async function commitAsAdmin(
  cluster: KafkaCluster,
  group: string,
  offsets: readonly OffsetWrite[],
): Promise<void> {
  if (offsets.length === 0) return
  const byTopic = new Map<string, offsetCommitV9.OffsetCommitRequestPartition[]>()
  for (const o of offsets) {
    const list = byTopic.get(o.topic) ?? []
    list.push({
      partitionIndex: o.partition,
      committedOffset: BigInt(o.offset),
      committedLeaderEpoch: -1,
      committedMetadata: o.metadata,
    })
    byTopic.set(o.topic, list)
  }
  const topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }))
  await withCoordinator(cluster, group, 'OFFSETS_WRITE_FAILED', 'Writing the offsets of', async (nodeId) => {
    let response: offsetCommitV9.OffsetCommitResponse | undefined
    try {
      const connection = await cluster.connectionTo(nodeId)
      response = await offsetCommitV9.api.async(connection, group, -1, '', null, topics)
    } catch (error) {
      response = responseOf<offsetCommitV9.OffsetCommitResponse>(error)
      if (!response) throw new RetryOrFail(protocolErrorName(error) ?? 'NETWORK_EXCEPTION', error)
    }
    for (const t of response.topics) {
      for (const p of t.partitions) {
        if (p.errorCode === 0) continue
        const name = kafkaErrorName(p.errorCode)
        if (COORDINATOR_MOVED.has(name) || COORDINATOR_BUSY.has(name)) throw new RetryOrFail(name)
        throw new SegmentOffsetsError(
          'OFFSETS_WRITE_FAILED',
          `Writing the offset of ${t.name}#${p.partitionIndex} for consumer group ${group} failed: ${name}` +
            (name === 'UNKNOWN_MEMBER_ID'
              ? ' (the group has active members: stop them, then run the command again)'
              : name === 'OFFSET_METADATA_TOO_LARGE'
                ? ' (the metadata exceeds the broker’s offset.metadata.max.bytes)'
                : ''),
        )
      }
    }
  })
}

/** A coordinator error worth another try (the coordinator moved or is loading). */
export class RetryOrFail extends Error {
  readonly errorName: string
  constructor(errorName: string, cause?: unknown) {
    super(errorName, { cause })
    this.errorName = errorName
  }
}

const ATTEMPTS = 5

/** Runs `call` against the group's coordinator, looking it up again (with a pause) when it moved. */
export async function withCoordinator<T>(
  cluster: KafkaCluster,
  group: string,
  code: SegmentOffsetsErrorCode,
  what: string,
  call: (coordinatorNodeId: number) => Promise<T>,
): Promise<T> {
  let last: unknown
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const coordinator = await cluster.findCoordinator(group)
      return await call(coordinator.nodeId)
    } catch (error) {
      if (!(error instanceof RetryOrFail) && !isCoordinatorLookupFailure(error)) throw error
      last = error
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt))
    }
  }
  const name = last instanceof RetryOrFail ? last.errorName : (last as Error).message
  throw new SegmentOffsetsError(
    code,
    `${what} consumer group ${group} failed after ${ATTEMPTS} attempts: ${name}`,
    {
      cause: last,
    },
  )
}

function isCoordinatorLookupFailure(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'COORDINATOR_NOT_FOUND'
}
