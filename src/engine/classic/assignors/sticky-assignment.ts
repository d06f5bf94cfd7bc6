import { type AssignmentSteps, runToEnd } from '../assignment-steps.ts'
import { compareStrings, type PartitionCounts } from '../assignor.ts'

/**
 * The sticky placement under cooperative-sticky (Java's AbstractStickyAssignor, reimplemented):
 * keep what members own where that stays balanced, and move as little as balance needs. Pure
 * and deterministic: members are visited in member-id order where Java visits a HashMap.
 */

/** A member as the sticky placement sees it. */
export interface StickyMember {
  memberId: string
  topics: ReadonlySet<string>
  /** Partition keys (see {@link partitionKey}) the member claims to own. */
  owned: readonly string[]
  /** The generation `owned` belongs to, -1 when unknown. */
  generation: number
}

/** The result of the sticky placement. */
export interface StickyResult {
  /** Member → partition keys. */
  assignment: Map<string, string[]>
  /** Partition key → the member whose claim stood (newest generation, sole claimant of it). */
  owners: Map<string, string>
  /** Keys claimed by more than one member of the newest claiming generation: nobody's. */
  claimedByMany: Set<string>
}

/** A partition's key: topic, NUL, number; split at the last NUL, so any topic name round-trips. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

/** The inverse of {@link partitionKey}. */
export function splitKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf('\u0000')
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) }
}

// Sorting and eligibility checks parse keys over and over; a large group has tens of thousands.
const parsedKeys = new Map<string, { topic: string; partition: number }>()
function parsed(key: string): { topic: string; partition: number } {
  let entry = parsedKeys.get(key)
  if (!entry) {
    if (parsedKeys.size > 100_000) parsedKeys.clear()
    entry = splitKey(key)
    parsedKeys.set(key, entry)
  }
  return entry
}

// Java's order for owned partitions when trimming to a quota: by partition number, then topic.
function compareByPartitionThenTopic(a: string, b: string): number {
  const x = parsed(a)
  const y = parsed(b)
  return x.partition - y.partition || compareStrings(x.topic, y.topic)
}

/** All partitions of the topics, topics sorted by name, partitions in order. */
function allPartitions(topics: readonly string[], counts: PartitionCounts): string[] {
  const out: string[] = []
  for (const topic of [...topics].sort(compareStrings)) {
    const count = counts.get(topic) ?? 0
    for (let p = 0; p < count; p++) out.push(partitionKey(topic, p))
  }
  return out
}

/**
 * Decides which claims stand: a partition claimed by members of different generations stays
 * with the newest claim (the others hold a stale view); if two members of the newest generation
 * claim it, it is nobody's, as in Java (both must give it up before anyone gets it). A claimant
 * that no longer subscribes to the topic still counts in that contest — it holds the partition
 * until it revokes it — but cannot keep it. Claims on partitions that do not exist are dropped.
 */
function* validateOwnership(
  members: readonly StickyMember[],
  existing: ReadonlySet<string>,
): AssignmentSteps<{
  owned: Map<string, string[]>
  owners: Map<string, string>
  claimedByMany: Set<string>
}> {
  const claimants = new Map<string, StickyMember[]>()
  for (const member of members) {
    yield
    for (const key of new Set(member.owned)) {
      if (!existing.has(key)) continue
      const list = claimants.get(key)
      if (list) list.push(member)
      else claimants.set(key, [member])
    }
  }
  const owned = new Map<string, string[]>(members.map((m) => [m.memberId, []]))
  const owners = new Map<string, string>()
  const claimedByMany = new Set<string>()
  for (const [key, list] of claimants) {
    yield
    const newest = Math.max(...list.map((m) => m.generation))
    const winners = list.filter((m) => m.generation === newest)
    const winner = winners[0]!
    if (winners.length > 1) claimedByMany.add(key)
    else if (winner.topics.has(parsed(key).topic)) {
      owned.get(winner.memberId)!.push(key)
      owners.set(key, winner.memberId)
    }
  }
  return { owned, owners, claimedByMany }
}

/** Runs the sticky placement for all members over the subscribed topics' partitions. */
export function stickyAssign(members: readonly StickyMember[], counts: PartitionCounts): StickyResult {
  return runToEnd(stickyAssignSteps(members, counts))
}

/** {@link stickyAssign} in steps (see {@link AssignmentSteps}). */
export function* stickyAssignSteps(
  members: readonly StickyMember[],
  counts: PartitionCounts,
): AssignmentSteps<StickyResult> {
  const sorted = [...members].sort((a, b) => compareStrings(a.memberId, b.memberId))
  const subscribed = new Set<string>()
  for (const m of sorted) for (const t of m.topics) subscribed.add(t)
  const partitions = allPartitions([...subscribed], counts)
  yield
  const { owned, owners, claimedByMany } = yield* validateOwnership(sorted, new Set(partitions))
  const first = sorted[0]
  const allEqual =
    first !== undefined &&
    sorted.every(
      (m) => m.topics.size === first.topics.size && [...m.topics].every((t) => first.topics.has(t)),
    )
  const assignment = allEqual
    ? yield* constrainedAssign(sorted, owned, partitions)
    : yield* generalAssign(sorted, owned, partitions, counts)
  return { assignment, owners, claimedByMany }
}

/**
 * All members subscribe to the same topics: every member ends with minQuota or maxQuota
 * partitions (maxQuota for exactly `total % members` of them). Owned partitions are kept up to
 * the member's quota; the rest are dealt round-robin to members still under quota.
 */
function* constrainedAssign(
  members: readonly StickyMember[],
  owned: ReadonlyMap<string, string[]>,
  partitions: readonly string[],
): AssignmentSteps<Map<string, string[]>> {
  const total = partitions.length
  const minQuota = Math.floor(total / members.length)
  const maxQuota = Math.ceil(total / members.length)
  const expectedAtMax = total % members.length
  let atMax = 0
  const assignment = new Map<string, string[]>(members.map((m) => [m.memberId, []]))
  const underMin: string[] = []
  const atMinMayGrow: string[] = []
  const taken = new Set<string>()
  for (const member of members) {
    yield
    const mine = [...owned.get(member.memberId)!].sort(compareByPartitionThenTopic)
    const target = assignment.get(member.memberId)!
    let keep: string[]
    if (mine.length < minQuota) {
      keep = mine
      underMin.push(member.memberId)
    } else if (mine.length >= maxQuota && atMax < expectedAtMax) {
      keep = mine.slice(0, maxQuota)
      atMax++
    } else {
      keep = mine.slice(0, minQuota)
      if (atMax < expectedAtMax) atMinMayGrow.push(member.memberId)
    }
    target.push(...keep)
    for (const key of keep) taken.add(key)
  }
  // Members that reached maxQuota after others were listed as able to grow take those slots.
  if (atMax === expectedAtMax) atMinMayGrow.length = 0
  const unassigned = partitions.filter((key) => !taken.has(key))
  let cursor = 0
  for (const key of unassigned) {
    yield
    let memberId: string
    if (underMin.length > 0) {
      if (cursor >= underMin.length) cursor = 0
      memberId = underMin[cursor]!
    } else {
      const next = atMinMayGrow.shift()
      // Unreachable when the quotas add up; kept as a clear failure rather than a silent loss.
      if (next === undefined) throw new Error('sticky assignment: no member left under quota (a bug)')
      memberId = next
    }
    const target = assignment.get(memberId)!
    target.push(key)
    if (underMin.length > 0 && target.length === minQuota) {
      underMin.splice(cursor, 1)
      if (atMax < expectedAtMax) atMinMayGrow.push(memberId)
    } else if (underMin.length > 0) {
      cursor++
    }
    if (target.length === maxQuota && maxQuota > minQuota) {
      atMax++
      if (atMax === expectedAtMax) atMinMayGrow.length = 0
    }
  }
  return assignment
}

/**
 * Members subscribe to different topics: keep every valid owned partition, give each unowned one
 * to the least-loaded subscriber (partitions with the fewest subscribers first), then move
 * partitions from a member to a subscriber holding at least two fewer until none can move —
 * Java's balance criterion. Moves take partitions the member did not own before first, and each
 * strictly lowers the sum of squared loads, so the loop ends.
 */
function* generalAssign(
  members: readonly StickyMember[],
  owned: ReadonlyMap<string, string[]>,
  partitions: readonly string[],
  counts: PartitionCounts,
): AssignmentSteps<Map<string, string[]>> {
  // Members by index (their member-id order), loads in an array: the hot loops below compare
  // loads of every subscriber of a topic, for every partition.
  const loads = new Int32Array(members.length)
  const held = members.map((m) => new Set(owned.get(m.memberId)))
  const previouslyOwned = held.map((set) => new Set(set))
  held.forEach((set, i) => {
    loads[i] = set.size
  })
  const subscribers = new Map<string, number[]>()
  for (const topic of counts.keys()) {
    yield
    subscribers.set(
      topic,
      members.flatMap((m, i) => (m.topics.has(topic) ? [i] : [])),
    )
  }
  const taken = new Set<string>()
  for (const set of held) for (const key of set) taken.add(key)
  yield
  const position = new Map(partitions.map((key, i) => [key, i]))
  yield
  const eligible = (key: string) => subscribers.get(parsed(key).topic) ?? []
  const leastLoaded = (candidates: readonly number[]) => {
    let best = -1
    for (const i of candidates) if (best < 0 || loads[i]! < loads[best]!) best = i
    return best
  }
  const move = (key: string, from: number, to: number) => {
    if (from >= 0) {
      held[from]!.delete(key)
      loads[from]!--
    }
    held[to]!.add(key)
    loads[to]!++
  }

  const unassigned = partitions
    .filter((key) => !taken.has(key))
    .map((key, index) => ({ key, index, choices: eligible(key).length }))
    .sort((a, b) => a.choices - b.choices || a.index - b.index)
  yield
  for (const { key } of unassigned) {
    yield
    const to = leastLoaded(eligible(key))
    if (to >= 0) move(key, -1, to)
  }

  // Passes over the members, most loaded first, moving every partition that can go to a
  // subscriber holding two fewer; a pass without a move ends it.
  const indices = members.map((_, i) => i)
  for (let moved = true; moved; ) {
    moved = false
    indices.sort((a, b) => loads[b]! - loads[a]! || a - b)
    for (const from of indices) {
      yield
      const was = previouslyOwned[from]!
      // New arrivals move before partitions the member owned: stickiness.
      const mine = [...held[from]!].sort(
        (a, b) => Number(was.has(a)) - Number(was.has(b)) || position.get(a)! - position.get(b)!,
      )
      // One least-loaded lookup per topic, redone only once that member stops qualifying: only
      // `from` loses load meanwhile, so a member that qualified still does until it fills up.
      const targets = new Map<string, number>()
      for (const key of mine) {
        yield
        const topic = parsed(key).topic
        let to = targets.get(topic) ?? -1
        if (to < 0 || loads[to]! >= loads[from]! - 1) {
          to = leastLoaded(eligible(key))
          targets.set(topic, to)
        }
        if (to >= 0 && loads[to]! < loads[from]! - 1) {
          move(key, from, to)
          moved = true
        }
      }
    }
  }
  return new Map(members.map((m, i) => [m.memberId, [...held[i]!]]))
}
