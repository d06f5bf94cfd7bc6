// Builders for assignor tests: members, partition counts and a flat view of assignments.
import type { GroupAssignment, MemberSubscription } from '../../../../../src/engine/classic/assignor.ts'

/** A member subscribed to `topics`; options add owned partitions ("t-0" strings), generation, instance id. */
export function member(
  memberId: string,
  topics: string[],
  options: { owned?: string[]; generation?: number; instance?: string; userData?: Buffer | null } = {},
): MemberSubscription {
  const owned = new Map<string, number[]>()
  for (const tp of options.owned ?? []) {
    const { topic, partition } = parse(tp)
    owned.set(topic, [...(owned.get(topic) ?? []), partition])
  }
  return {
    memberId,
    groupInstanceId: options.instance ?? null,
    topics,
    userData: options.userData ?? null,
    ownedPartitions: [...owned].map(([topic, partitions]) => ({ topic, partitions })),
    generationId: options.generation ?? -1,
    rackId: null,
  }
}

function parse(tp: string): { topic: string; partition: number } {
  const at = tp.lastIndexOf('-')
  return { topic: tp.slice(0, at), partition: Number(tp.slice(at + 1)) }
}

/** Partition counts from pairs. */
export function counts(entries: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(entries))
}

/** An assignment as member → ["topic-partition", …] in the assignment's (sorted) order. */
export function flat(assignment: GroupAssignment): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [memberId, list] of assignment) {
    out[memberId] = list.flatMap(({ topic, partitions }) => partitions.map((p) => `${topic}-${p}`))
  }
  return out
}
