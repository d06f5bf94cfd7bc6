/**
 * Plans of the offset commands, as pure functions of what the broker holds: the writes, the
 * before/after table, the refusals (`problems`, overridden by --force) and what the user must
 * know (`notes`). Nothing here talks to Kafka; `apply.ts` reads the state and writes a plan.
 */
import { encodeCommitMetadata } from '../../processing/consumer-group/commit-metadata.ts'
import { type Committed, tpKey } from './group-offsets.ts'
import { type OffsetState, progressOf, stateOf, unusedMapText } from './progress.ts'

/** What the broker holds for one partition of a segmented group's topics. */
export interface PartitionOffsets {
  topic: string
  partition: number
  /** The log's first offset and its end (ListOffsets earliest and latest, in the group's isolation). */
  logStart: number
  logEnd: number
  /** The origin group's commit (null: none). */
  origin: Committed | null
  /** Each segment's commit, by segment id (null: none). */
  segments: Array<Committed | null>
  /** The commit of each of the group's `otherGroups`, in their order (null: none). */
  others?: Array<Committed | null>
}

/** A segment group on the cluster that the app given does not have (another count's). */
export interface OtherSegmentGroup {
  id: number
  group: string
}

/** A segmented group's offsets: its origin, its segments, and the routing of the app given. */
export interface GroupOffsets {
  /** The group's name in the app: the origin Kafka group. */
  origin: string
  /** The Kafka group of each segment, by segment id. */
  segmentGroups: string[]
  /** The app's routing fingerprint: distribute writes it; collapse expects to find it. */
  fingerprint: string
  /**
   * Segment groups of the origin that exist on the cluster beyond the app's count (left by
   * another count): their offsets count in collapse, and distribute gives them the origin's.
   */
  otherGroups?: OtherSegmentGroup[]
  partitions: PartitionOffsets[]
}

/** One offset a command writes, and what it replaces. */
export interface PlannedWrite {
  group: string
  topic: string
  partition: number
  before: OffsetState | null
  after: OffsetState
  metadata: string
}

/** What a command does to one segmented group. */
export interface GroupPlan {
  origin: string
  writes: PlannedWrite[]
  /** Why the command refuses (Karafka's messages); --force writes anyway. */
  problems: string[]
  /** What the user must know: partitions left alone, maps not carried, fallbacks. */
  notes: string[]
}

export interface PlanOptions {
  force: boolean
}

/** The origin's state a distribute copies, per partition (by `topic#partition`). */
export type OriginOffsets = Map<string, Committed | null>

/**
 * distribute: per partition, the origin's committed offset and offset map go to every segment,
 * with the app's routing fingerprint. A segment that already has an offset > 0 is a problem
 * (Karafka's rule: 0 passes), unless it already holds exactly what would be written (same offset
 * and metadata): then it is neither written nor refused. Partitions the origin has no offset for
 * are left alone.
 * `origin` replaces what the origin holds (reset distributes what its collapse wrote).
 */
export function planDistribute(group: GroupOffsets, origin?: OriginOffsets): GroupPlan {
  const plan: GroupPlan = { origin: group.origin, writes: [], problems: [], notes: [] }
  const others = group.otherGroups ?? []
  for (const p of group.partitions) {
    const tp = tpKey(p.topic, p.partition)
    const from = origin ? (origin.get(tp) ?? null) : p.origin
    const targets = [
      ...p.segments.map((committed, id) => ({ group: group.segmentGroups[id]!, committed })),
      ...others.map((o, i) => ({ group: o.group, committed: p.others?.[i] ?? null })),
    ]
    if (!from) {
      for (const t of targets) refuseOverwrite(plan, t.group, t.committed, tp)
      plan.notes.push(
        `${tp}: ${group.origin} has no committed offset; the segments' offsets are left as they are`,
      )
      continue
    }
    const progress = progressOf(from)
    if (progress.unusedMap) {
      plan.notes.push(
        `${tp}: the offset map of ${group.origin} is not copied (${unusedMapText(progress)}): the records it lists run again`,
      )
    }
    const offsetMap = progress.token ? { base: progress.offset, token: progress.token } : undefined
    const metadata = encodeCommitMetadata({ offsetMap, routing: group.fingerprint })
    const after: OffsetState = {
      offset: progress.offset,
      mapped: progress.done.length,
      routing: group.fingerprint,
    }
    // Groups of another count get the same offset and fingerprint: it marks what they had not
    // finished as handed over (a later collapse of this app skips them).
    for (const t of targets) {
      // Already holding exactly what would be written (a repeated distribute or reset): nothing to
      // change, and nothing overwritten, so Karafka's refusal does not apply.
      if (t.committed && t.committed.offset === after.offset && t.committed.metadata === metadata) continue
      refuseOverwrite(plan, t.group, t.committed, tp)
      plan.writes.push({
        group: t.group,
        topic: p.topic,
        partition: p.partition,
        before: t.committed ? stateOf(progressOf(t.committed)) : null,
        after,
        metadata,
      })
    }
  }
  if (others.length > 0 && plan.writes.length > 0) {
    plan.notes.push(
      `${others.map((o) => o.group).join(', ')} ${others.length === 1 ? 'is' : 'are'} not among this app's ${group.segmentGroups.length} segments ` +
        `(left by another count): ${others.length === 1 ? 'it gets' : 'they get'} the same offsets and routing fingerprint, so a later ` +
        `collapse of this app passes ${others.length === 1 ? 'it' : 'them'} by; delete ${others.length === 1 ? 'it' : 'them'} with Kafka's tools when no longer wanted`,
    )
  }
  return plan
}

/** Karafka's rule: a segment that already has an offset > 0 is not overwritten without --force. */
function refuseOverwrite(plan: GroupPlan, group: string, committed: Committed | null, tp: string): void {
  if (committed && committed.offset > 0) {
    plan.problems.push(`Parallel segment ${group} already has offset ${committed.offset} set for ${tp}`)
  }
}

/** The problems that refuse a plan, or none with --force. */
export function refusals(plan: GroupPlan, options: PlanOptions): string[] {
  return options.force ? [] : plan.problems
}
