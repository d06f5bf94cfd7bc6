import { type AssignmentSteps, runToEnd } from './assignment-steps.ts'
import type { TopicPartitions } from './consumer-protocol.ts'

/**
 * How the classic protocol moves partitions with an assignor: `eager` members give up
 * everything before rejoining; `cooperative` members keep what they own and give up only what
 * the assignment leaves out (KIP-429), so the assignor must never hand a partition straight from
 * one member to another in a single generation.
 */
export type RebalanceProtocol = 'eager' | 'cooperative'

/** One member as the leader's assignor sees it: JoinGroup's member plus its decoded subscription. */
export interface MemberSubscription {
  memberId: string
  /** group.instance.id of a static member, null for a dynamic one (static members sort first). */
  groupInstanceId: string | null
  topics: readonly string[]
  userData: Buffer | null
  ownedPartitions: readonly TopicPartitions[]
  /** The generation ownedPartitions belong to (subscription v2+), -1 when not sent. */
  generationId: number
  rackId: string | null
}

/** Partition counts of the subscribed topics, from metadata; a topic missing or at 0 is skipped. */
export type PartitionCounts = ReadonlyMap<string, number>

/** Member id → its partitions, topics and partitions sorted; every member has an entry. */
export type GroupAssignment = Map<string, TopicPartitions[]>

/** What a member knows when it writes its subscription's userData. */
export interface SubscriptionContext {
  topics: readonly string[]
  /** The generation of the member's current assignment, -1 before its first one. */
  generationId: number
}

/**
 * A classic-protocol partition assignor. `name` is the JoinGroup protocol name, the same string
 * Java and librdkafka use, so a group may mix clients: the coordinator picks a name every member
 * offers, and the leader — whichever client it is — runs its own implementation of it.
 */
export interface ClassicAssignor {
  readonly name: string
  readonly rebalanceProtocol: RebalanceProtocol
  /** The userData a member puts in its subscription; absent means null. */
  subscriptionUserData?(context: SubscriptionContext): Buffer | null
  /** The leader's step: pure, deterministic for the same input. */
  assign(members: readonly MemberSubscription[], partitionCounts: PartitionCounts): GroupAssignment
  /**
   * The same in steps, for assignors whose work grows past a few ms in large groups: the leader
   * runs it in time slices so the process's timers keep running.
   */
  assignSteps?(
    members: readonly MemberSubscription[],
    partitionCounts: PartitionCounts,
  ): AssignmentSteps<GroupAssignment>
}

/** Java's String.compareTo (UTF-16 code units), which JS's `<` on strings also is. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Java's member order (AbstractPartitionAssignor.MemberInfo): static members first by
 * group.instance.id, then dynamic members by member id. Static members keep their place across
 * restarts (their member id changes, their instance id does not), so range and roundrobin give
 * them the same partitions again.
 */
export function compareMembers(
  a: Pick<MemberSubscription, 'memberId' | 'groupInstanceId'>,
  b: Pick<MemberSubscription, 'memberId' | 'groupInstanceId'>,
): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) {
    return compareStrings(a.groupInstanceId, b.groupInstanceId)
  }
  if (a.groupInstanceId !== null) return -1
  if (b.groupInstanceId !== null) return 1
  return compareStrings(a.memberId, b.memberId)
}

/** Turns member → (topic → partitions) into the sorted GroupAssignment form. */
export function toGroupAssignment(
  members: readonly MemberSubscription[],
  partitionsByMember: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>,
): GroupAssignment {
  return runToEnd(toGroupAssignmentSteps(members, partitionsByMember))
}

/** {@link toGroupAssignment} in steps, one member each. */
export function* toGroupAssignmentSteps(
  members: readonly MemberSubscription[],
  partitionsByMember: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>,
): AssignmentSteps<GroupAssignment> {
  const out: GroupAssignment = new Map()
  for (const { memberId } of members) {
    yield
    const byTopic = partitionsByMember.get(memberId)
    const list: TopicPartitions[] = []
    if (byTopic) {
      for (const topic of [...byTopic.keys()].sort(compareStrings)) {
        const partitions = [...byTopic.get(topic)!].sort((x, y) => x - y)
        if (partitions.length > 0) list.push({ topic, partitions })
      }
    }
    out.set(memberId, list)
  }
  return out
}

/** Adds `partition` of `topic` to a member's topic → partitions map. */
export function addPartition(target: Map<string, number[]>, topic: string, partition: number): void {
  const list = target.get(topic)
  if (list) list.push(partition)
  else target.set(topic, [partition])
}
