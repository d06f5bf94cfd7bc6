/**
 * Consumer group state and lag, for `multilane groups list|describe`: members and their
 * assignments, and per partition the committed offset, the log end, the lag and how many
 * records above the committed offset the commit's offset map records as done (multilane's
 * per-record progress: they are skipped, not replayed, after a restart). With an app, one view
 * across a group's parallel segments.
 */
import { offsetFetchV9 } from '@platformatic/kafka'
import { kafkaGroupNames } from '../app/app-builder.ts'
import type { AppDefinition, ConsumerGroupDefinition } from '../app/definition.ts'
import { type IsolationLevel, listOffsets, toOffset } from '../engine/offset-resolver.ts'
import type { TopicPartition } from '../engine/types.ts'
import { MultilaneError } from '../errors.ts'
import type { KafkaCluster } from '../kafka/cluster.ts'
import { kafkaErrorName } from '../kafka/protocol-errors.ts'
import { decodeCommitMetadata } from '../processing/consumer-group/commit-metadata.ts'
import { decodeOffsetMap } from '../processing/consumer-group/offset-map-codec.ts'
import { describeGroupState, type GroupMember } from './group-members.ts'
import { SegmentOffsetsError } from './segment-offsets/errors.ts'
import { withCoordinator } from './segment-offsets/group-offsets.ts'
import { listClusterGroups } from './segment-offsets/segment-groups.ts'

export type { GroupMember } from './group-members.ts'

/** Why `groups list|describe` failed. */
export class GroupAdminError extends MultilaneError<
  'GROUP_NOT_FOUND' | 'CONSUMER_GROUP_NOT_FOUND' | 'OFFSETS_READ_FAILED' | 'GROUP_DESCRIBE_FAILED'
> {}

/** A group as ListGroups reports it. */
export interface GroupListing {
  group: string
  /** `consumer`, `classic`, `share`, `streams`… (the broker's group type). */
  type: string
  /** Empty for groups not used by consumers (e.g. Connect's). */
  protocolType: string
  state: string
}

/** Every group of the cluster (ListGroups on every broker), sorted by name. */
export async function listGroups(cluster: KafkaCluster): Promise<GroupListing[]> {
  const byName = new Map<string, GroupListing>()
  for (const g of await listClusterGroups(cluster)) {
    byName.set(g.groupId, {
      group: g.groupId,
      type: g.groupType,
      protocolType: g.protocolType,
      state: g.groupState,
    })
  }
  return [...byName.values()].sort((a, b) => a.group.localeCompare(b.group))
}

/** One partition of a group: where it is, where the log is, and what lies between. */
export interface PartitionLag {
  topic: string
  partition: number
  /** The next offset the group consumes; null: nothing committed. */
  committed: number | null
  logEnd: number
  /** `logEnd − committed`; null when nothing is committed. */
  lag: number | null
  /**
   * Records above `committed` the commit's offset map records as done (skipped on restart):
   * 0 without a map; a map written with another offset (copied by a tool) is not used and counts 0.
   */
  doneAbove: number
  /** `none` (no map), `ok`, `stale` (written with another offset), `invalid` (does not decode), `foreign` (another client's metadata). */
  offsetMap: 'none' | 'ok' | 'stale' | 'invalid' | 'foreign'
  /** The member owning the partition now (member id), or null. */
  owner: string | null
}

/** One group, described. */
export interface GroupDescription {
  group: string
  /** The parallel segment the group is (with --app), else null. */
  segment: number | null
  type: 'consumer' | 'classic' | 'none'
  state: string
  members: GroupMember[]
  partitions: PartitionLag[]
  /** Sum of the lags (partitions without a commit count 0). */
  totalLag: number
}

export interface DescribeOptions {
  /** Describe these partitions too (an app's topics), committed or not. */
  partitions?: readonly TopicPartition[]
  isolation?: IsolationLevel
  /** The segment id to report (with --app). */
  segment?: number | null
  /** Describe even when the group does not exist (a segment that never ran). */
  allowMissing?: boolean
}

/**
 * Describes `group`: its members and, for every partition it has committed, owns or is given,
 * the committed offset, log end, lag and offset-map size. Throws GROUP_NOT_FOUND when the group
 * does not exist (no members, no offsets) unless `allowMissing`.
 */
export async function describeGroup(
  cluster: KafkaCluster,
  group: string,
  options: DescribeOptions = {},
): Promise<GroupDescription> {
  const [state, committed] = await Promise.all([
    describeGroupState(cluster, group),
    readAllCommitted(cluster, group),
  ])
  if (state.type === 'none' && committed.size === 0 && !options.allowMissing) {
    // Only on this error path: say so when the name is a group of another kind.
    const other = (await listGroups(cluster).catch(() => [])).find((g) => g.group === group)
    if (other) {
      throw new GroupAdminError(
        'GROUP_NOT_FOUND',
        `${group} is a ${other.type} group, not a consumer group` +
          (other.type === 'share' ? ` (\`multilane share describe ${group}\` describes it)` : ''),
      )
    }
    throw new GroupAdminError(
      'GROUP_NOT_FOUND',
      `Consumer group ${group} does not exist: it has no members and no committed offsets (\`multilane groups list\` lists the groups)`,
    )
  }
  const owners = new Map<string, string>()
  for (const m of state.members)
    for (const a of m.assignment) owners.set(key(a.topic, a.partition), m.memberId)
  const wanted = new Map<string, TopicPartition>()
  const add = (topic: string, partition: number) => wanted.set(key(topic, partition), { topic, partition })
  for (const p of options.partitions ?? []) add(p.topic, p.partition)
  for (const k of committed.keys()) add(...split(k))
  for (const k of owners.keys()) add(...split(k))
  const partitions = [...wanted.values()].sort(
    (a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition,
  )
  const ends = await logEnds(cluster, group, partitions, options.isolation ?? 'read_uncommitted')
  const rows = partitions.map((p): PartitionLag => {
    const k = key(p.topic, p.partition)
    const c = committed.get(k)
    const logEnd = ends.get(k) ?? 0
    const map = offsetMapOf(c)
    return {
      topic: p.topic,
      partition: p.partition,
      committed: c?.offset ?? null,
      logEnd,
      lag: c ? Math.max(0, logEnd - c.offset) : null,
      doneAbove: map.done,
      offsetMap: map.status,
      owner: owners.get(k) ?? null,
    }
  })
  return {
    group,
    segment: options.segment ?? null,
    type: state.type,
    state: state.state,
    members: state.members,
    partitions: rows,
    totalLag: rows.reduce((sum, r) => sum + (r.lag ?? 0), 0),
  }
}

/** A consumer group of an app across its segment groups (just the group without segments). */
export interface AppGroupDescription {
  origin: string
  segmentCount: number
  groups: GroupDescription[]
  totalLag: number
}

/**
 * Describes consumer group `origin` of `app`: every segment group (`<origin><mergeKey><i>`),
 * each with every partition of the group's topics. Throws CONSUMER_GROUP_NOT_FOUND when the
 * app does not define the group.
 */
export async function describeAppGroup(
  cluster: KafkaCluster,
  app: AppDefinition,
  origin: string,
): Promise<AppGroupDescription> {
  const definition = app.consumerGroups.find((g) => g.name === origin)
  if (!definition) {
    const names = app.consumerGroups.map((g) => g.name)
    throw new GroupAdminError(
      'CONSUMER_GROUP_NOT_FOUND',
      `The app defines no consumer group ${origin} (its consumer groups: ${names.length > 0 ? names.join(', ') : 'none'})`,
    )
  }
  const partitions = await topicPartitions(cluster, definition)
  const names = kafkaGroupNames(definition)
  const segmented = definition.parallelSegments.count > 1
  const groups = await Promise.all(
    names.map((name, i) =>
      describeGroup(cluster, name, {
        partitions,
        isolation: definition.settings.isolationLevel,
        segment: segmented ? i : null,
        allowMissing: true,
      }),
    ),
  )
  return {
    origin,
    segmentCount: definition.parallelSegments.count,
    groups,
    totalLag: groups.reduce((sum, g) => sum + g.totalLag, 0),
  }
}

async function topicPartitions(
  cluster: KafkaCluster,
  group: ConsumerGroupDefinition,
): Promise<TopicPartition[]> {
  const names = group.topics.map((t) => t.name)
  const metadata = await cluster.refreshMetadata(names)
  return names.flatMap((topic) =>
    (metadata.get(topic)?.partitions ?? []).map((_, partition) => ({ topic, partition })),
  )
}

interface CommittedOffset {
  offset: number
  metadata: string | null
}

/** Every committed offset of the group (OffsetFetch with all topics). */
async function readAllCommitted(cluster: KafkaCluster, group: string): Promise<Map<string, CommittedOffset>> {
  return withCoordinator(cluster, group, 'OFFSETS_READ_FAILED', 'Reading the offsets of', async (nodeId) => {
    const connection = await cluster.connectionTo(nodeId)
    const response = await offsetFetchV9.api.async(
      connection,
      [{ groupId: group, memberId: null, memberEpoch: -1, topics: null }],
      true,
    )
    const g = response.groups[0]
    if (g && g.errorCode !== 0) {
      throw new SegmentOffsetsError(
        'OFFSETS_READ_FAILED',
        `Reading the committed offsets of consumer group ${group} failed: ${kafkaErrorName(g.errorCode)}`,
      )
    }
    const out = new Map<string, CommittedOffset>()
    for (const t of g?.topics ?? []) {
      for (const p of t.partitions) {
        if (p.errorCode === 0 && p.committedOffset >= 0n)
          out.set(key(t.name, p.partitionIndex), {
            offset: toOffset(p.committedOffset),
            metadata: p.metadata ?? null,
          })
      }
    }
    return out
  })
}

async function logEnds(
  cluster: KafkaCluster,
  group: string,
  partitions: readonly TopicPartition[],
  isolation: IsolationLevel,
): Promise<Map<string, number>> {
  if (partitions.length === 0) return new Map()
  // Topics deleted since the commit have no log end: they are shown with 0.
  const metadata = await cluster.refreshMetadata([...new Set(partitions.map((p) => p.topic))])
  const known = partitions.filter((p) => metadata.get(p.topic)?.partitions[p.partition] !== undefined)
  try {
    return await listOffsets(cluster, known, 'latest', isolation)
  } catch (error) {
    throw new GroupAdminError(
      'OFFSETS_READ_FAILED',
      `Listing the log ends of the partitions of consumer group ${group} failed: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

function offsetMapOf(c: CommittedOffset | undefined): { done: number; status: PartitionLag['offsetMap'] } {
  if (!c?.metadata) return { done: 0, status: 'none' }
  const decoded = decodeCommitMetadata(c.metadata)
  if (decoded.foreign) return { done: 0, status: 'foreign' }
  if (!decoded.offsetMap) return { done: 0, status: 'none' }
  if (decoded.offsetMap.base !== c.offset) return { done: 0, status: 'stale' }
  try {
    return { done: decodeOffsetMap(c.offset, decoded.offsetMap.token).length, status: 'ok' }
  } catch {
    return { done: 0, status: 'invalid' }
  }
}

function key(topic: string, partition: number): string {
  return `${topic}#${partition}`
}

function split(k: string): [string, number] {
  const at = k.lastIndexOf('#')
  return [k.slice(0, at), Number(k.slice(at + 1))]
}
