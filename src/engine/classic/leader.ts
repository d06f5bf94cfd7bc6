import { type AssignmentSteps, runToEnd } from './assignment-steps.ts'
import type { ClassicAssignor, MemberSubscription, PartitionCounts, SubscriptionContext } from './assignor.ts'
import { cooperativeStickyAssignor } from './assignors/cooperative-sticky.ts'
import { rangeAssignor } from './assignors/range.ts'
import { roundRobinAssignor } from './assignors/roundrobin.ts'
import {
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type TopicPartitions,
} from './consumer-protocol.ts'
import { ClassicProtocolError } from './errors.ts'

/** The assignors multilane implements, by their protocol names. */
export const CLASSIC_ASSIGNORS: readonly ClassicAssignor[] = [
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
]

/** One member of a JoinGroup response (the leader gets them all). */
export interface JoinGroupMember {
  memberId: string
  groupInstanceId: string | null
  /** The member's protocol metadata: its encoded ConsumerProtocolSubscription. */
  metadata: Buffer
}

/** One entry of a SyncGroup request's assignments. */
export interface SyncGroupAssignment {
  memberId: string
  /** The member's encoded ConsumerProtocolAssignment. */
  assignment: Buffer
}

/**
 * The group leader's step between JoinGroup and SyncGroup: decode every member's subscription,
 * run the assignor the coordinator chose (`protocolName`), encode each member's assignment.
 * Every member gets an entry, in JoinGroup order, an empty assignment included (a member left
 * out would get empty bytes from the coordinator; explicit is clearer in logs and captures).
 * Throws ClassicProtocolError: CONSUMER_PROTOCOL_MALFORMED naming the member whose metadata does
 * not decode, UNKNOWN_ASSIGNOR when no assignor has that name.
 */
export function leaderAssignment(
  members: readonly JoinGroupMember[],
  protocolName: string,
  partitionCounts: PartitionCounts,
  assignors: readonly ClassicAssignor[] = CLASSIC_ASSIGNORS,
): SyncGroupAssignment[] {
  return runToEnd(leaderAssignmentSteps(members, protocolName, partitionCounts, assignors))
}

/**
 * {@link leaderAssignment} in steps: the member runs it with `runSliced`, so a large group's
 * assignment does not hold the process's timers (see {@link AssignmentSteps}).
 */
export function* leaderAssignmentSteps(
  members: readonly JoinGroupMember[],
  protocolName: string,
  partitionCounts: PartitionCounts,
  assignors: readonly ClassicAssignor[] = CLASSIC_ASSIGNORS,
): AssignmentSteps<SyncGroupAssignment[]> {
  const assignor = assignors.find((a) => a.name === protocolName)
  if (!assignor) {
    throw new ClassicProtocolError(
      'UNKNOWN_ASSIGNOR',
      `the group chose assignment strategy "${protocolName}", which this member does not implement (it has: ${assignors.map((a) => a.name).join(', ')})`,
    )
  }
  const subscriptions: MemberSubscription[] = []
  for (const member of members) {
    yield
    let decoded: ReturnType<typeof decodeSubscription>
    try {
      decoded = decodeSubscription(member.metadata)
    } catch (error) {
      if (error instanceof ClassicProtocolError) {
        throw new ClassicProtocolError(
          'CONSUMER_PROTOCOL_MALFORMED',
          `member ${member.memberId}: ${error.message}`,
          { cause: error },
        )
      }
      throw error
    }
    subscriptions.push({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      topics: decoded.topics,
      userData: decoded.userData,
      ownedPartitions: decoded.ownedPartitions,
      generationId: decoded.generationId,
      rackId: decoded.rackId,
    })
  }
  const assignment = assignor.assignSteps
    ? yield* assignor.assignSteps(subscriptions, partitionCounts)
    : assignor.assign(subscriptions, partitionCounts)
  const out: SyncGroupAssignment[] = []
  for (const { memberId } of members) {
    yield
    out.push({
      memberId,
      assignment: encodeAssignment({ assignedPartitions: assignment.get(memberId) ?? [], userData: null }),
    })
  }
  return out
}

/** What a member offers in JoinGroup: its assignors' names with their subscription metadata. */
export interface JoinGroupProtocol {
  name: string
  metadata: Buffer
}

/**
 * A member's JoinGroup protocols in its order of preference (the coordinator keeps the names
 * every member offers and picks the one most members rank highest): for each assignor, the
 * subscription bytes with that assignor's userData.
 */
export function joinGroupProtocols(
  assignors: readonly ClassicAssignor[],
  subscription: SubscriptionContext & { ownedPartitions: readonly TopicPartitions[]; rackId: string | null },
): JoinGroupProtocol[] {
  return assignors.map((assignor) => ({
    name: assignor.name,
    metadata: encodeSubscription({
      topics: [...subscription.topics],
      userData: assignor.subscriptionUserData?.(subscription) ?? null,
      ownedPartitions: [...subscription.ownedPartitions],
      generationId: subscription.generationId,
      rackId: subscription.rackId,
    }),
  }))
}
