// The offset commands' plans as pure functions of what the broker holds: distribute's copy and
// refusal, the exact collapse (which records are done, gaps, maps, fallbacks), reset as a whole.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type CollapseStep,
  collapseSteps,
  ExactCollapse,
  type ExactCollapseResult,
  planCollapse,
} from '../../../src/admin/segment-offsets/exact-collapse.ts'
import type { Committed } from '../../../src/admin/segment-offsets/group-offsets.ts'
import {
  type GroupOffsets,
  type PartitionOffsets,
  planDistribute,
} from '../../../src/admin/segment-offsets/plan.ts'
import { planReset } from '../../../src/admin/segment-offsets/reset.ts'
import {
  decodeCommitMetadata,
  encodeCommitMetadata,
} from '../../../src/processing/consumer-group/commit-metadata.ts'
import { decodeOffsetMap, encodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'

const FP = 'fingerprint-app'

function commit(offset: number, done: number[] = [], routing?: string, base = offset): Committed {
  const token = done.length > 0 ? encodeOffsetMap(base, done) : undefined
  return {
    offset,
    metadata: encodeCommitMetadata({ offsetMap: token ? { base, token } : undefined, routing }),
  }
}

function partition(p: Partial<PartitionOffsets> & Pick<PartitionOffsets, 'segments'>): PartitionOffsets {
  return { topic: 'events', partition: 0, logStart: 0, logEnd: 1000, origin: null, ...p }
}

function group(partitions: PartitionOffsets[]): GroupOffsets {
  const count = partitions[0]!.segments.length
  return {
    origin: 'analytics',
    segmentGroups: Array.from({ length: count }, (_, i) => `analytics-parallel-${i}`),
    fingerprint: FP,
    partitions,
  }
}

/** Runs the collapse's reads against a synthetic log: `segmentAt(offset)` is the record's segment, undefined for a gap. */
function collapse(g: GroupOffsets, segmentAt: (offset: number) => number | undefined, maxOffsets?: number) {
  const steps = collapseSteps(g)
  const results = new Map<string, ExactCollapseResult>()
  for (const step of steps) {
    if (step.kind !== 'read') continue
    const exact = new ExactCollapse(step, maxOffsets)
    for (let o = step.from; o < step.to; o++) {
      const s = segmentAt(o)
      if (s !== undefined) exact.record(o, s)
    }
    exact.readUntil(step.to)
    results.set(`${step.topic}#${step.partition}`, exact.result())
  }
  return { steps, results, plan: planCollapse(g, steps, results) }
}

function mapOf(metadata: string): { offset?: number; done: number[]; routing?: string } {
  const decoded = decodeCommitMetadata(metadata)
  const map = decoded.offsetMap
  return {
    done: map?.base !== undefined ? decodeOffsetMap(map.base, map.token) : [],
    ...(decoded.routing ? { routing: decoded.routing } : {}),
  }
}

describe('distribute', () => {
  it("copies the origin's offset and map to every segment with the app's fingerprint", () => {
    const plan = planDistribute(
      group([partition({ origin: commit(100, [102, 105]), segments: [null, null, null] })]),
    )
    assert.deepEqual(plan.problems, [])
    assert.deepEqual(
      plan.writes.map((w) => [w.group, w.after.offset, w.after.mapped]),
      [
        ['analytics-parallel-0', 100, 2],
        ['analytics-parallel-1', 100, 2],
        ['analytics-parallel-2', 100, 2],
      ],
    )
    for (const w of plan.writes) assert.deepEqual(mapOf(w.metadata), { done: [102, 105], routing: FP })
  })

  it('refuses segments that already have an offset > 0, one line each (0 passes, as in Karafka)', () => {
    const plan = planDistribute(
      group([
        partition({ origin: commit(100), segments: [commit(0), commit(1000), null] }),
        partition({ partition: 1, origin: commit(7), segments: [null, null, commit(1100)] }),
      ]),
    )
    assert.deepEqual(plan.problems, [
      'Parallel segment analytics-parallel-1 already has offset 1000 set for events#0',
      'Parallel segment analytics-parallel-2 already has offset 1100 set for events#1',
    ])
    assert.equal(plan.writes.length, 6, 'the plan (what --force writes) covers every segment')
  })

  it('leaves partitions the origin has no offset for, and does not copy a map written for another offset', () => {
    const plan = planDistribute(
      group([
        partition({ origin: null, segments: [null, null] }),
        partition({ partition: 1, origin: commit(50, [52], undefined, 40), segments: [null, null] }),
      ]),
    )
    assert.deepEqual(
      plan.writes.map((w) => [w.partition, w.after.offset, w.after.mapped]),
      [
        [1, 50, 0],
        [1, 50, 0],
      ],
    )
    assert.match(
      plan.notes[0]!,
      /events#0: analytics has no committed offset; the segments' offsets are left/,
    )
    assert.match(
      plan.notes[1]!,
      /events#1: the offset map of analytics is not copied \(its offset map was written for offset 40, not 50\)/,
    )
  })

  it("distribute onto segments that already hold the origin's offsets and fingerprint changes nothing and is not refused", () => {
    const plan = planDistribute(
      group([
        partition({
          origin: commit(100, [102, 105]),
          segments: [commit(100, [102, 105], FP), commit(100, [102, 105], FP)],
        }),
        // Same offset, another fingerprint: it would change, so Karafka's rule refuses it.
        partition({ partition: 1, origin: commit(7), segments: [commit(7, [], FP), commit(7, [], 'old')] }),
      ]),
    )
    assert.deepEqual(plan.problems, [
      'Parallel segment analytics-parallel-1 already has offset 7 set for events#1',
    ])
    assert.deepEqual(
      plan.writes.map((w) => [w.group, w.partition]),
      [['analytics-parallel-1', 1]],
    )
  })

  it("copies a foreign commit's offset (another client's metadata) without a map", () => {
    const plan = planDistribute(
      group([partition({ origin: { offset: 9, metadata: 'karafka' }, segments: [null, null] })]),
    )
    assert.deepEqual(mapOf(plan.writes[0]!.metadata), { done: [], routing: FP })
    assert.equal(plan.writes[0]!.after.offset, 9)
  })
})

describe('collapse', () => {
  it('equal offsets without maps: the origin gets that offset, nothing is read', () => {
    const { steps, plan } = collapse(
      group([partition({ segments: [commit(40), commit(40), commit(40)] })]),
      () => 0,
    )
    assert.equal(steps[0]!.kind, 'lowest')
    assert.deepEqual(plan.problems, [])
    assert.deepEqual(
      plan.writes.map((w) => [w.group, w.after]),
      [['analytics', { offset: 40, mapped: 0 }]],
    )
  })

  it("differing offsets: Karafka's messages (distinct offsets ascending, -1 for none), then the group line", () => {
    const { plan } = collapse(
      group([
        partition({ segments: [commit(1100), commit(1000), commit(1050)] }),
        partition({ partition: 1, segments: [commit(5), null, commit(5)] }),
        partition({ partition: 2, segments: [commit(9), commit(9), commit(9)] }),
      ]),
      (o) => o % 3,
    )
    assert.deepEqual(plan.problems, [
      'Inconclusive offsets for events#0: 1000, 1050, 1100',
      'Inconclusive offsets for events#1: -1, 5',
      'Parallel segments for analytics have inconclusive offsets',
    ])
  })

  it('is exact: a record is done iff its own segment did it (below its offset or in its map)', () => {
    // Segment of offset o: o % 3. Segment 0 at 10, segment 1 at 20 (+ map 22, 25), segment 2 at 30.
    const { plan, results } = collapse(
      group([partition({ segments: [commit(10), commit(20, [22, 25]), commit(30)] })]),
      (o) => o % 3,
    )
    const expectedDone: number[] = []
    let base: number | undefined
    for (let o = 10; o < 30; o++) {
      const s = o % 3
      const done = s === 0 ? o < 10 : s === 1 ? o < 20 || o === 22 || o === 25 : o < 30
      if (base === undefined) {
        if (!done) base = o
      } else if (done) expectedDone.push(o)
    }
    assert.equal(base, 12, 'offset 10 (segment 1) and 11 (segment 2) are done; 12 (segment 0) is not')
    assert.deepEqual(results.get('events#0'), {
      offset: 12,
      done: expectedDone,
      doneCount: expectedDone.length,
    })
    const write = plan.writes[0]!
    assert.equal(write.group, 'analytics')
    assert.deepEqual(write.after, { offset: 12, mapped: expectedDone.length })
    assert.deepEqual(mapOf(write.metadata), { done: expectedDone }, 'the origin gets no routing fingerprint')
  })

  it('counts offsets without a record (compacted, markers) as done', () => {
    // Segment 0 at 10, segment 1 at 14; offsets 11 and 12 have no record, 13 is segment 1's.
    const { results } = collapse(group([partition({ segments: [commit(10), commit(14)] })]), (o) =>
      o === 11 || o === 12 ? undefined : o === 10 ? 0 : 1,
    )
    assert.deepEqual(results.get('events#0'), { offset: 10, done: [11, 12, 13], doneCount: 3 })
  })

  it('a segment never committed has done nothing: the range starts at the log start', () => {
    const { steps, results } = collapse(
      group([partition({ logStart: 5, segments: [commit(8), null] })]),
      (o) => o % 2,
    )
    assert.deepEqual(steps[0]!.kind === 'read' && [steps[0]!.from, steps[0]!.to], [5, 8])
    // 5: segment 1 (not done); 6: segment 0 (done); 7: segment 1.
    assert.deepEqual(results.get('events#0'), { offset: 5, done: [6], doneCount: 1 })
  })

  it('reads up to the highest position a map reaches, never past the log end', () => {
    const steps = collapseSteps(
      group([partition({ logEnd: 60, segments: [commit(10, [40]), commit(20, [55, 70])] })]) as GroupOffsets,
    )
    const step = steps[0] as Extract<CollapseStep, { kind: 'read' }>
    assert.deepEqual([step.from, step.to], [10, 60])
  })

  it("ignores a segment's map written for another offset (its records run again)", () => {
    // Every record is segment 1's; its map lists 13 but was written for offset 5, not 12.
    const { results, plan } = collapse(
      group([partition({ segments: [commit(14), commit(12, [13], undefined, 5)] })]),
      () => 1,
    )
    assert.deepEqual(results.get('events#0'), { offset: 12, done: [], doneCount: 0 })
    assert.match(plan.notes.join('\n'), /offset map of analytics-parallel-1 is not used/)
  })

  it("another routing's fingerprint: the lowest offset without a map, and says why", () => {
    const { steps, plan } = collapse(
      group([partition({ segments: [commit(10, [], FP), commit(30, [], 'other-routing')] })]),
      () => 0,
    )
    assert.equal(steps[0]!.kind, 'lowest')
    assert.deepEqual(plan.writes[0]!.after, { offset: 10, mapped: 0 })
    assert.match(
      plan.notes[0]!,
      /analytics-parallel-1 was committed with routing fingerprint other-routing; the app's routing fingerprint is fingerprint-app: .*the origin gets 10, the lowest offset a segment group committed \(analytics-parallel-0\), without a map: the records from 10 that analytics-parallel-1 already processed \(below 30\) run again; nothing is skipped/,
    )
  })

  it('falls back to the lowest unfinished offset when the map exceeds the codec limit, and says so', () => {
    const { plan } = collapse(
      group([partition({ segments: [commit(0), commit(100)] })]),
      (o) => (o === 0 ? 0 : 1),
      10,
    )
    assert.deepEqual(plan.writes[0]!.after, { offset: 0, mapped: 0 })
    assert.match(
      plan.notes[0]!,
      /exact offset map \(99 offsets\) does not fit.*analytics gets offset 0 without a map/,
    )
  })

  it('falls back when the map exceeds the commit metadata limit (4096 bytes)', () => {
    // A scattered half of 40,000 records: a map of about 6.7 kB that does not compress.
    let x = 7
    const seg: number[] = []
    for (let o = 0; o < 40_000; o++) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      seg.push((x >>> 0) % 2)
    }
    const { plan, results } = collapse(
      group([partition({ logEnd: 50_000, segments: [commit(0), commit(40_000)] })]),
      (o) => seg[o],
    )
    assert.ok((results.get('events#0')!.done?.length ?? 0) > 19_000)
    assert.equal(plan.writes[0]!.after.mapped, 0)
    assert.equal(
      plan.writes[0]!.after.offset,
      results.get('events#0')!.offset,
      'the lowest unfinished offset',
    )
    assert.match(plan.notes[0]!, /does not fit in the commit metadata \(4096 bytes\)/)
  })

  it('leaves the origin alone when no segment has an offset', () => {
    const { plan } = collapse(group([partition({ origin: commit(3), segments: [null, null] })]), () => 0)
    assert.deepEqual(plan.writes, [])
    assert.match(plan.notes[0]!, /no segment has a committed offset; analytics is left as it is/)
  })
})

describe('segment groups of another count', () => {
  // The app now has 2 segments; -2 and -3 are left by a count of 4 (fingerprint 'four').
  function countChanged(segments: Array<Committed | null>, others: Array<Committed | null>): GroupOffsets {
    return {
      ...group([partition({ segments, others })]),
      otherGroups: [
        { id: 2, group: 'analytics-parallel-2' },
        { id: 3, group: 'analytics-parallel-3' },
      ],
    }
  }

  it("count down: their lower offset is the origin's (nothing skipped), and differing offsets are refused", () => {
    const g = countChanged(
      [commit(400, [], 'four'), commit(400, [], 'four')],
      [commit(400, [], 'four'), commit(200, [], 'four')],
    )
    const { plan } = collapse(g, () => 0)
    assert.deepEqual(plan.writes[0]!.after, { offset: 200, mapped: 0 })
    assert.deepEqual(plan.problems, [
      'Inconclusive offsets for events#0: 200, 400',
      'Parallel segments for analytics have inconclusive offsets',
    ])
    assert.match(
      plan.notes.join('\n'),
      /analytics-parallel-3 is not one of the app's 2 segments \(committed with routing fingerprint four\).*the origin gets 200.*\(analytics-parallel-3\).*analytics-parallel-0 already processed \(below 400\), analytics-parallel-1 already processed \(below 400\), analytics-parallel-2 already processed \(below 400\) run again; nothing is skipped/,
    )
  })

  it("reset distributes to them too, with the app's fingerprint, and a later collapse passes them by", () => {
    const g = countChanged(
      [commit(400, [], 'four'), commit(400, [], 'four')],
      [commit(400, [], 'four'), commit(200, [], 'four')],
    )
    const steps = collapseSteps(g)
    const reset = planReset(g, steps, new Map())
    assert.deepEqual(
      reset.distribute.writes.map((w) => [w.group, w.after.offset, decodeCommitMetadata(w.metadata).routing]),
      [0, 1, 2, 3].map((i) => [`analytics-parallel-${i}`, 200, FP]),
    )
    assert.match(
      reset.notes.join('\n'),
      /analytics-parallel-2, analytics-parallel-3 are not among this app's 2 segments/,
    )
    // After the segments ran on: the retired groups carry the app's fingerprint and are ignored.
    const later = countChanged(
      [commit(400, [], FP), commit(400, [], FP)],
      [commit(200, [], FP), commit(200, [], FP)],
    )
    const { steps: laterSteps, plan } = collapse(later, () => 0)
    assert.deepEqual(laterSteps[0], { kind: 'lowest', topic: 'events', partition: 0, offset: 400 })
    assert.deepEqual(plan.problems, [])
    assert.deepEqual(plan.writes[0]!.after, { offset: 400, mapped: 0 })
  })

  it('count up: groups never committed are not counted as the log start', () => {
    const g = group([partition({ segments: [commit(500, [], 'two'), commit(500, [], 'two'), null, null] })])
    const { plan } = collapse(g, () => 0)
    assert.deepEqual(plan.writes[0]!.after, { offset: 500, mapped: 0 })
    assert.match(
      plan.notes.join('\n'),
      /the origin gets 500, the lowest offset a segment group committed \(analytics-parallel-0, analytics-parallel-1\), without a map: no segment group processed anything above it, so nothing runs again; nothing is skipped \(analytics-parallel-2, analytics-parallel-3 never committed: not counted\)/,
    )
  })
})

describe('reset', () => {
  it("is planned as a whole: both phases' problems, the collapse's map distributed", () => {
    const g = group([partition({ origin: commit(0), segments: [commit(10), commit(14, [15])] })])
    const steps = collapseSteps(g)
    const results = new Map<string, ExactCollapseResult>()
    const step = steps[0] as Extract<CollapseStep, { kind: 'read' }>
    const exact = new ExactCollapse(step)
    for (let o = step.from; o < step.to; o++) exact.record(o, o % 2)
    exact.readUntil(step.to)
    results.set('events#0', exact.result())
    const plan = planReset(g, steps, results)
    assert.deepEqual(plan.problems, [
      'Inconclusive offsets for events#0: 10, 14',
      'Parallel segments for analytics have inconclusive offsets',
      'Parallel segment analytics-parallel-0 already has offset 10 set for events#0',
      'Parallel segment analytics-parallel-1 already has offset 14 set for events#0',
    ])
    // 10: segment 0, not done → the offset; 11, 13: segment 1's (< 14), done; 12, 14: segment 0's, not; 15: in segment 1's map.
    assert.deepEqual(
      plan.writes.map((w) => [w.group, w.after.offset, mapOf(w.metadata).done, mapOf(w.metadata).routing]),
      [
        ['analytics', 10, [11, 13, 15], undefined],
        ['analytics-parallel-0', 10, [11, 13, 15], FP],
        ['analytics-parallel-1', 10, [11, 13, 15], FP],
      ],
    )
  })

  it('reset whose collapse and distribute change nothing: no writes, no problems', () => {
    // What a distribute leaves: the origin's offset and map on every segment, with the fingerprint.
    const g = group([
      partition({
        origin: commit(100, [102, 105]),
        segments: [commit(100, [102, 105], FP), commit(100, [102, 105], FP)],
      }),
    ])
    const { steps, results, plan: collapsed } = collapse(g, (o) => o % 2)
    assert.deepEqual(
      [collapsed.writes, collapsed.problems],
      [[], []],
      'the origin already holds the collapse',
    )
    const plan = planReset(g, steps, results)
    assert.deepEqual([plan.writes, plan.problems], [[], []])
  })
})
