/** Reads what the broker holds for a segmented group: log bounds and the origin's and segments' commits. */
import { kafkaGroupNames } from '../../app/app-builder.ts'
import type { ConsumerGroupDefinition } from '../../app/definition.ts'
import { listOffsets } from '../../engine/offset-resolver.ts'
import type { TopicPartition } from '../../engine/types.ts'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import { SegmentOffsetsError } from './errors.ts'
import { readCommittedOffsets, tpKey } from './group-offsets.ts'
import type { GroupOffsets, OtherSegmentGroup } from './plan.ts'

/** The partitions of the group's topics; throws TOPIC_NOT_FOUND naming a missing topic. */
export async function groupPartitions(
  cluster: KafkaCluster,
  group: ConsumerGroupDefinition,
): Promise<TopicPartition[]> {
  const names = group.topics.map((t) => t.name)
  const metadata = await cluster.refreshMetadata(names)
  const missing = names.filter((n) => !metadata.has(n))
  if (missing.length > 0) {
    throw new SegmentOffsetsError(
      'TOPIC_NOT_FOUND',
      `Topic ${missing.join(', ')} of consumer group ${group.name} does not exist on the cluster`,
    )
  }
  return names.flatMap((topic) =>
    metadata.get(topic)!.partitions.map((_, partition) => ({ topic, partition })),
  )
}

/** The log's first offset and end for each partition, in the group's isolation level. */
export async function logBounds(
  cluster: KafkaCluster,
  group: ConsumerGroupDefinition,
  partitions: readonly TopicPartition[],
): Promise<{ start: Map<string, number>; end: Map<string, number> }> {
  const isolation = group.settings.isolationLevel
  try {
    const [start, end] = await Promise.all([
      listOffsets(cluster, partitions, 'earliest', isolation),
      listOffsets(cluster, partitions, 'latest', isolation),
    ])
    return { start, end }
  } catch (error) {
    throw new SegmentOffsetsError(
      'OFFSETS_READ_FAILED',
      `Listing the offsets of the topics of consumer group ${group.name} failed: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

/**
 * The group's offsets as the plans take them: the origin's, the app's segment groups', and those
 * of `otherGroups` (segment groups of another count found on the cluster).
 */
export async function readGroupOffsets(
  cluster: KafkaCluster,
  group: ConsumerGroupDefinition,
  otherGroups: readonly OtherSegmentGroup[] = [],
): Promise<GroupOffsets> {
  const partitions = await groupPartitions(cluster, group)
  const segmentGroups = kafkaGroupNames(group)
  const [bounds, origin, ...read] = await Promise.all([
    logBounds(cluster, group, partitions),
    readCommittedOffsets(cluster, group.name, partitions),
    ...[...segmentGroups, ...otherGroups.map((o) => o.group)].map((g) =>
      readCommittedOffsets(cluster, g, partitions),
    ),
  ])
  const segments = read.slice(0, segmentGroups.length)
  const others = read.slice(segmentGroups.length)
  return {
    origin: group.name,
    segmentGroups,
    fingerprint: group.parallelSegments.fingerprint,
    otherGroups: [...otherGroups],
    partitions: partitions.map(({ topic, partition }) => {
      const key = tpKey(topic, partition)
      return {
        topic,
        partition,
        logStart: bounds.start.get(key) ?? 0,
        logEnd: bounds.end.get(key) ?? 0,
        origin: origin.get(key) ?? null,
        segments: segments.map((s) => s.get(key) ?? null),
        others: others.map((s) => s.get(key) ?? null),
      }
    }),
  }
}
