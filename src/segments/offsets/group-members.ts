/**
 * How many members a group has right now. Offsets can only be changed while a group has none
 * (the coordinator refuses an admin commit otherwise), and changing them under running members
 * would race their own commits.
 */
import { consumerGroupDescribeV0, describeGroupsV5 } from '@platformatic/kafka'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import { kafkaErrorName, protocolErrorName, responseOf } from '../../kafka/protocol-errors.ts'
import { SegmentOffsetsError } from './errors.ts'
import { RetryOrFail, withCoordinator } from './group-offsets.ts'

/** A group's state and members as its coordinator reports them. */
export interface GroupMembers {
  group: string
  /** `consumer` (KIP-848), `classic`, or `none` when the group does not exist. */
  type: 'consumer' | 'classic' | 'none'
  /** The coordinator's state name (`Empty`, `Stable`, …; `Dead` when it does not exist). */
  state: string
  members: number
}

/**
 * Describes a group: ConsumerGroupDescribe first (KIP-848 groups, which DescribeGroups reports
 * as `Dead` without members), then DescribeGroups for classic groups (including the "simple"
 * group an admin commit creates).
 */
export async function describeGroupMembers(cluster: KafkaCluster, group: string): Promise<GroupMembers> {
  return withCoordinator(cluster, group, 'GROUP_DESCRIBE_FAILED', 'Describing', async (nodeId) => {
    const connection = await cluster.connectionTo(nodeId)
    const described = await call(() => consumerGroupDescribeV0.api.async(connection, [group], false))
    const g = described.groups[0]
    const error = kafkaErrorName(g?.errorCode ?? 0)
    if (g && error === 'NONE') {
      return { group, type: 'consumer', state: g.groupState, members: g.members.length }
    }
    if (error !== 'GROUP_ID_NOT_FOUND') fail(group, error)
    const classic = await call(() => describeGroupsV5.api.async(connection, [group], false))
    const c = classic.groups[0]
    const classicError = kafkaErrorName(c?.errorCode ?? 0)
    if (classicError !== 'NONE') fail(group, classicError)
    const state = c?.groupState ?? 'Dead'
    return { group, type: state === 'Dead' ? 'none' : 'classic', state, members: c?.members.length ?? 0 }
  })
}

async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request()
  } catch (error) {
    const response = responseOf<T>(error)
    if (response) return response
    throw new RetryOrFail(protocolErrorName(error) ?? 'NETWORK_EXCEPTION', error)
  }
}

function fail(group: string, error: string): never {
  if (
    error === 'NOT_COORDINATOR' ||
    error === 'COORDINATOR_NOT_AVAILABLE' ||
    error === 'COORDINATOR_LOAD_IN_PROGRESS'
  ) {
    throw new RetryOrFail(error)
  }
  throw new SegmentOffsetsError(
    'GROUP_DESCRIBE_FAILED',
    `Describing consumer group ${group} failed: ${error}`,
  )
}
