/**
 * How many members a group has right now. Offsets can only be changed while a group has none
 * (the coordinator refuses an admin commit otherwise), and changing them under running members
 * would race their own commits.
 */

import type { KafkaCluster } from '../../kafka/cluster.ts'
import { describeGroupState } from '../group-members.ts'

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
 * group an admin commit creates). See {@link describeGroupState}.
 */
export async function describeGroupMembers(cluster: KafkaCluster, group: string): Promise<GroupMembers> {
  const { type, state, members } = await describeGroupState(cluster, group)
  return { group, type, state, members: members.length }
}
