import { type AssignmentSteps, runToEnd } from '../assignment-steps.ts'
import {
  type ClassicAssignor,
  type GroupAssignment,
  type MemberSubscription,
  type PartitionCounts,
  type SubscriptionContext,
  toGroupAssignmentSteps,
} from '../assignor.ts'
import { partitionKey, splitKey, stickyAssignSteps } from './sticky-assignment.ts'

/**
 * The generation in a cooperative-sticky subscription's userData. Java's CooperativeStickyAssignor
 * writes a struct of one INT32 `generation` (big-endian) and reads the first four bytes; null
 * userData means none (-1), fewer than four bytes -1 (Java catches the underflow).
 *
 * librdkafka before 2.1 sends no generation_id field and puts the sticky assignor's userData
 * here instead: `[previous_assignment: topic [partitions]] generation`. Java would take that
 * array's topic count for a generation; when the bytes parse exactly as that layout, its trailing
 * generation is used instead, so such members' claims are weighed with their real generation.
 */
export function decodeCooperativeStickyUserData(userData: Buffer | null): number {
  if (userData === null || userData.length < 4) return -1
  if (userData.length > 4) {
    const generation = librdkafkaStickyGeneration(userData)
    if (generation !== undefined) return generation
  }
  return userData.readInt32BE(0)
}

/*
  Sticky assignor userData (librdkafka, Java StickyAssignor V1)
    previous_assignment => ARRAY(topic [partitions])
      topic => STRING
      partitions => ARRAY(INT32)
    generation => INT32
*/
function librdkafkaStickyGeneration(bytes: Buffer): number | undefined {
  let at = 0
  const need = (n: number) => at + n <= bytes.length
  if (!need(4)) return undefined
  const topics = bytes.readInt32BE(at)
  at += 4
  if (topics < 0) return undefined
  for (let t = 0; t < topics; t++) {
    if (!need(2)) return undefined
    const length = bytes.readInt16BE(at)
    at += 2
    if (length < 0 || !need(length + 4)) return undefined
    at += length
    const partitions = bytes.readInt32BE(at)
    at += 4
    if (partitions < 0 || !need(partitions * 4)) return undefined
    at += partitions * 4
  }
  return at + 4 === bytes.length ? bytes.readInt32BE(at) : undefined
}

/*
  CooperativeStickyAssignor userData (Java, COOPERATIVE_STICKY_ASSIGNOR_USER_DATA_V0)
    generation => INT32     (the member's last generation, -1 before its first assignment)
*/
/** Java's userData for a cooperative-sticky subscription: the generation as 4 big-endian bytes. */
export function encodeCooperativeStickyUserData(generationId: number): Buffer {
  const bytes = Buffer.alloc(4)
  bytes.writeInt32BE(generationId, 0)
  return bytes
}

/**
 * The generation a member's owned partitions belong to, as Java decides it: the subscription's
 * generation_id (v2+) when it is set, else the generation in the userData (see
 * {@link decodeCooperativeStickyUserData}).
 */
export function memberGeneration(member: Pick<MemberSubscription, 'generationId' | 'userData'>): number {
  return member.generationId >= 0 ? member.generationId : decodeCooperativeStickyUserData(member.userData)
}

/**
 * Java's and librdkafka's `cooperative-sticky` assignor (KIP-429). The placement is sticky:
 * members keep what they own while that stays balanced and as little as balance needs moves.
 * The cooperative rule on top: a partition that would go to a member while another member still
 * claims it is left out of this generation. The claimant sees it missing, revokes it (commits
 * what it finished) and rejoins; the follow-up rebalance, where nobody claims it any more, gives
 * it to its new owner. A partition is therefore never read by two members at once.
 */
export const cooperativeStickyAssignor: ClassicAssignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  subscriptionUserData(context: SubscriptionContext): Buffer {
    return encodeCooperativeStickyUserData(context.generationId)
  },
  assign(members: readonly MemberSubscription[], partitionCounts: PartitionCounts): GroupAssignment {
    return runToEnd(cooperativeStickySteps(members, partitionCounts))
  },
  assignSteps: cooperativeStickySteps,
}

function* cooperativeStickySteps(
  members: readonly MemberSubscription[],
  partitionCounts: PartitionCounts,
): AssignmentSteps<GroupAssignment> {
  const sticky = yield* stickyAssignSteps(
    members.map((m) => ({
      memberId: m.memberId,
      topics: new Set(m.topics),
      owned: m.ownedPartitions.flatMap(({ topic, partitions }) =>
        partitions.map((p) => partitionKey(topic, p)),
      ),
      generation: memberGeneration(m),
    })),
    partitionCounts,
  )
  // Every claim counts here, stale or not: a member holding a partition on a stale view may
  // still be reading it, so nobody else gets it until that member has let it go.
  const claimants = new Map<string, Set<string>>()
  for (const member of members) {
    yield
    for (const { topic, partitions } of member.ownedPartitions) {
      for (const p of partitions) {
        const key = partitionKey(topic, p)
        const set = claimants.get(key) ?? new Set<string>()
        claimants.set(key, set)
        set.add(member.memberId)
      }
    }
  }
  const result = new Map<string, Map<string, number[]>>()
  for (const [memberId, keys] of sticky.assignment) {
    yield
    const byTopic = new Map<string, number[]>()
    for (const key of keys) {
      // A member keeps what it rightly owns. Anything else another member still claims is
      // withheld this generation: that member loses it now and the follow-up rebalance hands
      // it over. (Two members of one generation claiming it: each must revoke it first.)
      const keeps = sticky.owners.get(key) === memberId
      if (!keeps && [...(claimants.get(key) ?? [])].some((c) => c !== memberId)) continue
      const { topic, partition } = splitKey(key)
      const list = byTopic.get(topic)
      if (list) list.push(partition)
      else byTopic.set(topic, [partition])
    }
    result.set(memberId, byTopic)
  }
  return yield* toGroupAssignmentSteps(members, result)
}
