/**
 * Every segment group of an origin that exists on the cluster, whatever the app's count: after
 * `count` changed, the groups of the other count (`…-parallel-3` when the app now has 2) still
 * hold offsets — records their segments had not finished — and may still have members. The
 * offset commands must see them: reading only the app's groups lost those records (collapse and
 * reset took the other segments' higher offsets) and wrote offsets under running members.
 */
import { listGroupsV5 } from '@platformatic/kafka'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import { kafkaErrorName, protocolErrorName, responseOf } from '../../kafka/protocol-errors.ts'
import { SegmentOffsetsError } from './errors.ts'

/** A segment group found on the cluster. */
export interface SegmentGroup {
  id: number
  group: string
}

const ATTEMPTS = 5
const RETRIABLE = new Set(['COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR'])

/** A group as ListGroups reports it. */
export type ListedGroup = listGroupsV5.ListGroupsResponseGroup

/**
 * Every group of the cluster as ListGroups reports it (to each broker: each lists the groups it
 * coordinates; a coordinator still loading is asked again).
 */
export async function listClusterGroups(cluster: KafkaCluster): Promise<ListedGroup[]> {
  await cluster.refreshMetadata([])
  const groups: ListedGroup[] = []
  for (const nodeId of cluster.knownBrokers()) groups.push(...(await listGroupsOf(cluster, nodeId)))
  return groups
}

/**
 * Every consumer group id on the cluster: KIP-848 and classic groups of the consumer protocol,
 * and the "simple" groups admin commits create (no protocol). Share, streams and Connect groups
 * are left out: a share group named `<origin>-parallel-7` is another application's, has no
 * committed offsets to read, and refuses offset commits (distribute failed half-written on one).
 */
export async function listGroupIds(cluster: KafkaCluster): Promise<Set<string>> {
  const consumerGroups = (await listClusterGroups(cluster)).filter(
    (g) =>
      (g.groupType === 'consumer' || g.groupType === 'classic') &&
      (g.protocolType === 'consumer' || g.protocolType === ''),
  )
  return new Set(consumerGroups.map((g) => g.groupId))
}

async function listGroupsOf(cluster: KafkaCluster, nodeId: number): Promise<ListedGroup[]> {
  let last = ''
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let response: listGroupsV5.ListGroupsResponse | undefined
    try {
      const connection = await cluster.connectionTo(nodeId)
      response = await listGroupsV5.api.async(connection, [], [])
    } catch (error) {
      response = responseOf<listGroupsV5.ListGroupsResponse>(error)
      if (!response) last = protocolErrorName(error) ?? (error as Error).message
    }
    if (response) {
      const error = kafkaErrorName(response.errorCode)
      if (error === 'NONE') return response.groups
      if (!RETRIABLE.has(error)) last = `${error} (not retried)`
      else last = error
      if (!RETRIABLE.has(error)) break
    }
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt))
  }
  throw new SegmentOffsetsError(
    'GROUP_DESCRIBE_FAILED',
    `Listing the consumer groups of broker ${nodeId} failed: ${last}`,
  )
}

/**
 * The segment groups of `origin` among `groupIds`: `<origin><mergeKey><id>` with a decimal id
 * (no leading zeros), ascending by id. Names in `exclude` (groups the app defines for other
 * purposes) are not segment groups.
 */
export function segmentGroupsAmong(
  groupIds: Iterable<string>,
  origin: string,
  mergeKey: string,
  exclude: ReadonlySet<string> = new Set(),
): SegmentGroup[] {
  const prefix = origin + mergeKey
  const found: SegmentGroup[] = []
  for (const group of groupIds) {
    if (!group.startsWith(prefix) || exclude.has(group)) continue
    const rest = group.slice(prefix.length)
    if (/^(0|[1-9]\d{0,8})$/.test(rest)) found.push({ id: Number(rest), group })
  }
  return found.sort((a, b) => a.id - b.id)
}
