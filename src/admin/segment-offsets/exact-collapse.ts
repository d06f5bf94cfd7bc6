/**
 * collapse, exactly: the origin gets the lowest offset not yet done by every segment, and an
 * offset map of the records above it that their own segment has done. A record between the
 * lowest and the highest segment position is done iff its segment (by the app's routing) has
 * it below its committed offset or in its offset map; offsets without a record (compacted,
 * transaction markers, aborted records in read_committed) count as done. Deciding needs the
 * records: `collapseSteps` says which ranges to read, `ExactCollapse` takes the records' segments,
 * `planCollapse` turns the results into the origin's commit (falling back to the lowest offset
 * without a map when the map does not fit in the commit metadata).
 */
import {
  encodeCommitMetadata,
  MAX_COMMIT_METADATA_BYTES,
} from '../../processing/consumer-group/commit-metadata.ts'
import { encodeOffsetMap, MAX_OFFSET_MAP_OFFSETS } from '../../processing/consumer-group/offset-map-codec.ts'
import { tpKey } from './group-offsets.ts'
import type { GroupOffsets, GroupPlan, OriginOffsets, PartitionOffsets } from './plan.ts'
import { type Progress, progressOf, stateOf, unusedMapText } from './progress.ts'

/** What one segment has done of a partition. */
export interface SegmentDone {
  /** Every record below is done. */
  offset: number
  /** Done above `offset` (its usable offset map). */
  done: ReadonlySet<number>
}

/** How a partition is collapsed. */
export type CollapseStep =
  /** No segment has an offset: the origin is left as it is. */
  | { kind: 'none'; topic: string; partition: number }
  /** The lowest segment offset without a map: nothing to read, or the records cannot be told apart (`reason`). */
  | { kind: 'lowest'; topic: string; partition: number; offset: number; reason?: string }
  /** Read the records in [from, to) and decide each one. */
  | { kind: 'read'; topic: string; partition: number; from: number; to: number; segments: SegmentDone[] }

/** A segment group's commit of one partition. */
interface GroupCommit {
  group: string
  progress: Progress
}

/**
 * The commits of segment groups beyond the app's count (another count's) that still count: those
 * not carrying the app's fingerprint. One that carries it was given the origin's offset by a
 * distribute of this app, which handed over what it had not finished.
 */
export function liveOtherCommits(group: GroupOffsets, p: PartitionOffsets): GroupCommit[] {
  return (group.otherGroups ?? []).flatMap((o, i) => {
    const committed = p.others?.[i]
    if (!committed) return []
    const progress = progressOf(committed)
    return progress.routing === group.fingerprint ? [] : [{ group: o.group, progress }]
  })
}

/** The collapse step of every partition of the group. */
export function collapseSteps(group: GroupOffsets): CollapseStep[] {
  return group.partitions.map((p) => {
    const { topic, partition } = p
    const others = liveOtherCommits(group, p)
    if (p.segments.every((c) => c === null) && others.length === 0) return { kind: 'none', topic, partition }
    const progress = p.segments.map((c) => (c ? progressOf(c) : null))
    const own = progress.flatMap((s, id) => (s ? [{ group: group.segmentGroups[id]!, progress: s }] : []))
    const foreign = [
      ...own.filter((c) => c.progress.routing !== undefined && c.progress.routing !== group.fingerprint),
      ...others,
    ]
    if (foreign.length > 0) return fallback(group, p, [...own, ...others], foreign)
    // A segment never committed has done nothing: it starts where the log starts.
    const lowest = Math.max(p.logStart, Math.min(...progress.map((s) => s?.offset ?? p.logStart)))
    const segments = progress.map((s) => ({ offset: s?.offset ?? p.logStart, done: new Set(s?.done ?? []) }))
    // Maps are ascending: a segment's last done offset is its map's last entry.
    let highest = lowest
    for (const s of progress) {
      if (s) highest = Math.max(highest, s.offset, (s.done.at(-1) ?? -1) + 1)
    }
    const to = Math.min(highest, p.logEnd)
    if (lowest >= to) return { kind: 'lowest', topic, partition, offset: lowest }
    return { kind: 'read', topic, partition, from: lowest, to, segments }
  })
}

/**
 * Some segment group was committed with another routing (or is another count's): which segment a
 * record belonged to cannot be told, so the origin gets the lowest offset any segment group
 * committed, without a map. Groups that never committed are not counted: a group of a new count
 * has had no records to finish (counting it as the log start would run every record again).
 */
function fallback(
  group: GroupOffsets,
  p: PartitionOffsets,
  committed: readonly GroupCommit[],
  foreign: readonly GroupCommit[],
): CollapseStep {
  const { topic, partition } = p
  const offset = Math.max(p.logStart, Math.min(...committed.map((c) => c.progress.offset)))
  const lowestGroups = committed.filter((c) => c.progress.offset <= offset).map((c) => c.group)
  const who = foreign.map((c) =>
    group.segmentGroups.includes(c.group)
      ? `${c.group} was committed with routing fingerprint ${c.progress.routing}`
      : `${c.group} is not one of the app's ${group.segmentGroups.length} segments (committed with ${c.progress.routing === undefined ? 'no routing fingerprint' : `routing fingerprint ${c.progress.routing}`})`,
  )
  const ahead = committed.filter((c) => c.progress.offset > offset || c.progress.done.length > 0)
  const replayed =
    ahead.length === 0
      ? 'no segment group processed anything above it, so nothing runs again'
      : `the records from ${offset} that ${ahead
          .map(
            (c) =>
              `${c.group} already processed (below ${c.progress.offset}${c.progress.done.length > 0 ? `, and ${c.progress.done.length} mapped above` : ''})`,
          )
          .join(', ')} run again`
  const uncommitted = group.segmentGroups.filter((_, id) => p.segments[id] === null)
  const reason =
    `${who.join('; ')}; the app's routing fingerprint is ${group.fingerprint}: which segment a record belonged to ` +
    `cannot be told, so the origin gets ${offset}, the lowest offset a segment group committed ` +
    `(${lowestGroups.join(', ')}), without a map: ${replayed}; nothing is skipped` +
    (uncommitted.length > 0 ? ` (${uncommitted.join(', ')} never committed: not counted)` : '') +
    '. Collapse with the app version the segments ran to run nothing twice'
  return { kind: 'lowest', topic, partition, offset, reason }
}

/** What reading a range decided. */
export interface ExactCollapseResult {
  /** The lowest offset not done (`to` when every one is). */
  offset: number
  /** The offsets done above it, ascending; null when more than the codec's limit. */
  done: number[] | null
  /** How many offsets are done above it. */
  doneCount: number
}

/** Decides a `read` step from the records of [from, to), given in offset order. */
export class ExactCollapse {
  readonly from: number
  readonly to: number
  readonly #segments: readonly SegmentDone[]
  readonly #maxOffsets: number
  #next: number
  #base: number | undefined
  #done: number[] | null = []
  #doneCount = 0

  constructor(step: Extract<CollapseStep, { kind: 'read' }>, maxOffsets = MAX_OFFSET_MAP_OFFSETS) {
    this.from = step.from
    this.to = step.to
    this.#segments = step.segments
    this.#maxOffsets = maxOffsets
    this.#next = step.from
  }

  /** True once every offset of the range was accounted for. */
  get complete(): boolean {
    return this.#next >= this.to
  }

  /** The record at `offset` belongs to segment `segment`. Offsets skipped since the last call are gaps. */
  record(offset: number, segment: number): void {
    if (offset < this.#next || offset >= this.to) return
    this.#gapsUntil(offset)
    const s = this.#segments[segment]
    this.#account(offset, s !== undefined && (offset < s.offset || s.done.has(offset)))
    this.#next = offset + 1
  }

  /** Every offset below `offset` was read: those without a record are gaps. */
  readUntil(offset: number): void {
    this.#gapsUntil(Math.min(offset, this.to))
  }

  result(): ExactCollapseResult {
    if (!this.complete) {
      throw new Error(
        `ExactCollapse.result() before the range was read (at ${this.#next} of [${this.from}, ${this.to}))`,
      )
    }
    return { offset: this.#base ?? this.to, done: this.#done, doneCount: this.#doneCount }
  }

  #gapsUntil(end: number): void {
    if (end <= this.#next) return
    // Gaps below the first unfinished record are covered by the offset itself.
    if (this.#base !== undefined) {
      let o = this.#next
      while (o < end && this.#done !== null) this.#account(o++, true)
      // Past the codec's limit only the count matters.
      if (o < end) this.#doneCount += end - o
    }
    this.#next = end
  }

  #account(offset: number, done: boolean): void {
    if (this.#base === undefined) {
      if (!done) this.#base = offset
      return
    }
    if (!done) return
    this.#doneCount++
    if (this.#done === null) return
    this.#done.push(offset)
    if (this.#done.length > this.#maxOffsets) this.#done = null
  }
}

/** A collapse plan, and what the origin holds after it (the input of reset's distribute). */
export interface CollapsePlan extends GroupPlan {
  originAfter: OriginOffsets
}

/**
 * collapse: the origin's commit per partition from the steps and, for `read` steps, the results
 * of reading their ranges (by `topic#partition`). Segment offsets that differ are a problem
 * (Karafka's messages; a segment without an offset counts as -1). Segment groups are kept.
 */
export function planCollapse(
  group: GroupOffsets,
  steps: readonly CollapseStep[],
  results: ReadonlyMap<string, ExactCollapseResult>,
): CollapsePlan {
  const plan: CollapsePlan = {
    origin: group.origin,
    writes: [],
    problems: [],
    notes: [],
    originAfter: new Map(),
  }
  group.partitions.forEach((p, i) => {
    const step = steps[i]!
    const tp = tpKey(p.topic, p.partition)
    const offsets = [
      ...p.segments.map((c) => c?.offset ?? -1),
      ...liveOtherCommits(group, p).map((c) => c.progress.offset),
    ]
    const distinct = [...new Set(offsets)].sort((a, b) => a - b)
    if (distinct.length > 1) plan.problems.push(`Inconclusive offsets for ${tp}: ${distinct.join(', ')}`)
    p.segments.forEach((c, id) => {
      const progress = c ? progressOf(c) : undefined
      if (progress?.unusedMap) {
        plan.notes.push(
          `${tp}: the offset map of ${group.segmentGroups[id]} is not used (${unusedMapText(progress)}): records it lists run again`,
        )
      }
    })
    plan.originAfter.set(tp, p.origin)
    if (step.kind === 'none') {
      plan.notes.push(`${tp}: no segment has a committed offset; ${group.origin} is left as it is`)
      return
    }
    let offset: number
    let done: number[] = []
    if (step.kind === 'lowest') {
      offset = step.offset
      if (step.reason) plan.notes.push(`${tp}: ${step.reason}`)
    } else {
      const result = results.get(tp)
      if (!result) throw new Error(`planCollapse: no read result for ${tp}`)
      offset = result.offset
      const fits = result.done !== null && mapMetadata(offset, result.done)
      if (fits) done = result.done!
      else if (result.doneCount > 0) {
        plan.notes.push(
          `${tp}: the exact offset map (${result.doneCount} offsets) does not fit in the commit metadata ` +
            `(${MAX_COMMIT_METADATA_BYTES} bytes): ${group.origin} gets offset ${offset} without a map, and the ` +
            `${result.doneCount} records above it that their segments already processed run again`,
        )
      }
    }
    const metadata = (done.length > 0 && mapMetadata(offset, done)) || encodeCommitMetadata({})
    // The origin already holds it (a repeated collapse or reset): nothing to write.
    if (p.origin && p.origin.offset === offset && p.origin.metadata === metadata) return
    plan.writes.push({
      group: group.origin,
      topic: p.topic,
      partition: p.partition,
      before: p.origin ? stateOf(progressOf(p.origin)) : null,
      after: { offset, mapped: done.length },
      metadata,
    })
    plan.originAfter.set(tp, { offset, metadata })
  })
  if (plan.problems.length > 0)
    plan.problems.push(`Parallel segments for ${group.origin} have inconclusive offsets`)
  return plan
}

/** The origin's metadata with this map, or undefined when it does not fit (codec or broker limit). */
function mapMetadata(offset: number, done: readonly number[]): string | undefined {
  let token: string
  try {
    token = encodeOffsetMap(offset, done)
  } catch {
    return undefined
  }
  const metadata = encodeCommitMetadata({ offsetMap: { base: offset, token } })
  return Buffer.byteLength(metadata) <= MAX_COMMIT_METADATA_BYTES ? metadata : undefined
}
