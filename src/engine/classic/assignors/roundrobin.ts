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
 * Java's and librdkafka's `roundrobin` assignor: every partition of every subscribed topic
 * (topics sorted by name, partitions in order) goes to the next member of a circle in member
 * order (static members by instance id first, then member ids), skipping members not subscribed
 * to its topic. Balanced within one when all subscriptions are equal; otherwise it can be
 * uneven, exactly as in Java.
 */
export const roundRobinAssignor: ClassicAssignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  assign(members: readonly MemberSubscription[], partitionCounts: PartitionCounts): GroupAssignment {
    const circle = [...members].sort(compareMembers)
    const subscribed = new Map(circle.map((m) => [m.memberId, new Set(m.topics)]))
    const result = new Map<string, Map<string, number[]>>(members.map((m) => [m.memberId, new Map()]))
    const topics = new Set<string>()
    for (const member of members) for (const topic of member.topics) topics.add(topic)
    let cursor = 0
    for (const topic of [...topics].sort(compareStrings)) {
      const count = partitionCounts.get(topic) ?? 0
      for (let partition = 0; partition < count; partition++) {
        // Some member subscribes to the topic (it came from a subscription), so this ends.
        while (!subscribed.get(circle[cursor]!.memberId)!.has(topic)) cursor = (cursor + 1) % circle.length
        addPartition(result.get(circle[cursor]!.memberId)!, topic, partition)
        cursor = (cursor + 1) % circle.length
      }
    }
    return toGroupAssignment(members, result)
  },
}
