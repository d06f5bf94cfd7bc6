import {
  addPartition,
  type ClassicAssignor,
  compareMembers,
  compareStrings,
  type GroupAssignment,
  type MemberSubscription,
  type PartitionCounts,
  toGroupAssignment,
} from '../assignor.ts'

/**
 * Java's and librdkafka's `range` assignor: topic by topic, the topic's partitions in order are
 * cut into consecutive ranges, one per subscribed member in member order (static members by
 * instance id first, then member ids); the first `partitions % members` members get one more.
 * Members subscribed to the same topics therefore get the same partition numbers of each topic
 * (co-partitioning), which is why users choose it.
 *
 * Rack-aware placement (Java, when members send client.rack and replicas have racks) is not
 * done: the input carries no replica racks. Without racks the result is Java's.
 */
export const rangeAssignor: ClassicAssignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  assign(members: readonly MemberSubscription[], partitionCounts: PartitionCounts): GroupAssignment {
    const sorted = [...members].sort(compareMembers)
    const result = new Map<string, Map<string, number[]>>(members.map((m) => [m.memberId, new Map()]))
    for (const topic of [...partitionCounts.keys()].sort(compareStrings)) {
      const count = partitionCounts.get(topic) ?? 0
      if (count <= 0) continue
      const consumers = sorted.filter((m) => m.topics.includes(topic))
      if (consumers.length === 0) continue
      const base = Math.floor(count / consumers.length)
      const extra = count % consumers.length
      let next = 0
      consumers.forEach((member, index) => {
        const take = base + (index < extra ? 1 : 0)
        const target = result.get(member.memberId)!
        for (let i = 0; i < take; i++) addPartition(target, topic, next++)
      })
    }
    return toGroupAssignment(members, result)
  },
}
