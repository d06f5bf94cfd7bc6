import { listOffsetsV9, offsetFetchV9 } from '@platformatic/kafka'
import type { KafkaCluster } from '../kafka/cluster.ts'
import { kafkaErrorName, responseOf } from '../kafka/protocol-errors.ts'
import { EngineError } from './errors.ts'
import type { TopicPartition } from './types.ts'

/** Where a partition starts when the group has no committed offset (or it is out of range). */
export type AutoOffsetReset = 'earliest' | 'latest'

export type IsolationLevel = 'read_uncommitted' | 'read_committed'

export function isolationLevelCode(level: IsolationLevel): number {
  return level === 'read_committed' ? 1 : 0
}

/** Converts a wire offset to a number; offsets beyond 2^53 are refused rather than rounded. */
export function toOffset(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new EngineError(
      'OFFSET_OUT_OF_SAFE_RANGE',
      `offset ${value} exceeds 2^53-1, which multilane does not support`,
    )
  }
  return Number(value)
}

/** Committed offsets and metadata of a group (OffsetFetch v9, stable offsets only). */
export async function fetchCommittedOffsets(
  cluster: KafkaCluster,
  coordinatorNodeId: number,
  groupId: string,
  partitions: readonly TopicPartition[],
): Promise<Map<string, { offset: number; metadata: string | null }>> {
  const byTopic = new Map<string, number[]>()
  for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition])
  const connection = await cluster.connectionTo(coordinatorNodeId)
  const response = await offsetFetchV9.api.async(
    connection,
    [
      {
        groupId,
        memberId: null,
        memberEpoch: -1,
        topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
      },
    ],
    true,
  )
  const group = response.groups[0]
  if (group && group.errorCode !== 0) {
    throw new EngineError(
      'OFFSET_RESET_FAILED',
      `OffsetFetch for group "${groupId}": ${kafkaErrorName(group.errorCode)}`,
    )
  }
  const out = new Map<string, { offset: number; metadata: string | null }>()
  for (const t of group?.topics ?? []) {
    for (const p of t.partitions) {
      if (p.errorCode !== 0) {
        throw new EngineError(
          'OFFSET_RESET_FAILED',
          `OffsetFetch ${t.name}#${p.partitionIndex} for group "${groupId}": ${kafkaErrorName(p.errorCode)}`,
        )
      }
      if (p.committedOffset >= 0n) {
        out.set(`${t.name}#${p.partitionIndex}`, {
          offset: toOffset(p.committedOffset),
          metadata: p.metadata ?? null,
        })
      }
    }
  }
  return out
}

/** Offsets found by {@link listOffsetsWhereKnown}, and the partitions it could not ask about. */
export interface ListedOffsets {
  offsets: Map<string, number>
  /** No known leader, or the leader's answer failed: ask again later. */
  unresolved: TopicPartition[]
}

/**
 * The earliest or latest offset of each partition whose leader is known and answers; the
 * others are returned as unresolved instead of failing the whole call (one leaderless
 * partition must not hold up the rest).
 */
export async function listOffsetsWhereKnown(
  cluster: KafkaCluster,
  partitions: readonly TopicPartition[],
  which: AutoOffsetReset,
  isolation: IsolationLevel,
): Promise<ListedOffsets> {
  const unresolved: TopicPartition[] = []
  const known: TopicPartition[] = []
  for (const p of partitions) {
    const leader = cluster.topicByName(p.topic)?.partitions[p.partition]?.nodeId
    ;(leader === undefined || leader < 0 ? unresolved : known).push(p)
  }
  const byLeader = new Map<number, TopicPartition[]>()
  for (const p of known) {
    const leader = cluster.topicByName(p.topic)!.partitions[p.partition]!.nodeId
    byLeader.set(leader, [...(byLeader.get(leader) ?? []), p])
  }
  const offsets = new Map<string, number>()
  await Promise.all(
    [...byLeader.values()].map(async (list) => {
      try {
        for (const [k, v] of await listOffsets(cluster, list, which, isolation)) offsets.set(k, v)
      } catch {
        unresolved.push(...list)
      }
    }),
  )
  return { offsets, unresolved }
}

/** The earliest or latest offset of each partition (ListOffsets v9 to each leader). */
export async function listOffsets(
  cluster: KafkaCluster,
  partitions: readonly TopicPartition[],
  which: AutoOffsetReset,
  isolation: IsolationLevel,
): Promise<Map<string, number>> {
  const byLeader = new Map<number, TopicPartition[]>()
  for (const p of partitions) {
    const leader = cluster.topicByName(p.topic)?.partitions[p.partition]?.nodeId
    if (leader === undefined || leader < 0) {
      throw new EngineError('OFFSET_RESET_FAILED', `no known leader for ${p.topic}#${p.partition}`)
    }
    byLeader.set(leader, [...(byLeader.get(leader) ?? []), p])
  }
  const timestamp = which === 'earliest' ? -2n : -1n
  const out = new Map<string, number>()
  await Promise.all(
    [...byLeader].map(async ([nodeId, list]) => {
      const byTopic = new Map<string, number[]>()
      for (const p of list) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition])
      const connection = await cluster.connectionTo(nodeId)
      let response: listOffsetsV9.ListOffsetsResponse
      try {
        response = await listOffsetsV9.api.async(
          connection,
          -1,
          isolationLevelCode(isolation),
          [...byTopic].map(([name, ps]) => ({
            name,
            partitions: ps.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp })),
          })),
        )
      } catch (error) {
        const partial = responseOf<listOffsetsV9.ListOffsetsResponse>(error)
        if (!partial) throw error
        response = partial
      }
      for (const t of response.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) {
            throw new EngineError(
              'OFFSET_RESET_FAILED',
              `ListOffsets ${t.name}#${p.partitionIndex}: ${kafkaErrorName(p.errorCode)}`,
            )
          }
          out.set(`${t.name}#${p.partitionIndex}`, toOffset(p.offset))
        }
      }
    }),
  )
  return out
}
