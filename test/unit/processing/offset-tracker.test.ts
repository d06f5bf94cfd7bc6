// A partition's offset tracker never commits past a pending record: out-of-order completion,
// gaps, skipped records, a restored offset map, and a restart from its committable offset that
// skips only what was done (checked against a model as well).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeOffsetMap, encodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import {
  OffsetTrackerError,
  PartitionOffsetTracker,
} from '../../../src/processing/consumer-group/offset-tracker.ts'

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (error: unknown) => error instanceof OffsetTrackerError && error.code === code)
}

describe('PartitionOffsetTracker', () => {
  it('starts at its position', () => {
    const t = new PartitionOffsetTracker(42)
    assert.equal(t.committable(), 42)
    assert.equal(t.pendingCount(), 0)
    assert.equal(t.lowestPending(), undefined)
    assert.deepEqual(t.doneAbove(), [])
  })

  it('commits up to the lowest pending record under out-of-order completion', () => {
    const t = new PartitionOffsetTracker(0)
    for (let o = 0; o < 5; o++) t.track(o)
    assert.equal(t.committable(), 0)
    t.complete(3)
    t.complete(1)
    assert.equal(t.committable(), 0)
    assert.deepEqual(t.doneAbove(), [1, 3])
    assert.equal(t.pendingCount(), 3)
    t.complete(0)
    assert.equal(t.committable(), 2)
    assert.equal(t.lowestPending(), 2)
    assert.deepEqual(t.doneAbove(), [3])
    t.complete(2)
    assert.equal(t.committable(), 4)
    assert.deepEqual(t.doneAbove(), [])
    t.complete(4)
    assert.equal(t.committable(), 5)
    assert.equal(t.pendingCount(), 0)
  })

  it('treats untracked offsets as gaps', () => {
    const t = new PartitionOffsetTracker(10)
    t.track(10)
    t.track(13) // 11 and 12 were never returned: compacted away or a transaction marker
    t.track(14)
    t.complete(14)
    assert.deepEqual(t.doneAbove(), [14])
    t.complete(10)
    assert.equal(t.committable(), 13)
    t.complete(13)
    assert.equal(t.committable(), 15)
    t.advance(20) // control records at 15..19
    assert.equal(t.committable(), 20)
  })

  it('does not let advance pass a pending record', () => {
    const t = new PartitionOffsetTracker(0)
    t.track(0)
    t.advance(1000)
    assert.equal(t.committable(), 0)
    t.complete(0)
    assert.equal(t.committable(), 1000)
    t.advance(500) // stale: ignored
    assert.equal(t.committable(), 1000)
    throwsCode(() => t.track(999), 'OFFSET_TRACKER_ORDER')
    t.track(1000)
  })

  it('records skipped records as done without dispatching them', () => {
    const t = new PartitionOffsetTracker(0)
    t.skip(0)
    t.skip(1)
    assert.equal(t.committable(), 2)
    assert.deepEqual(t.doneAbove(), [])
    t.track(2)
    t.skip(3)
    t.skip(5)
    assert.equal(t.committable(), 2)
    assert.deepEqual(t.doneAbove(), [3, 5])
    t.complete(2)
    assert.equal(t.committable(), 6)
  })

  it('restores an offset map and skips what it lists', () => {
    const t = new PartitionOffsetTracker(100, [102, 103, 110])
    assert.equal(t.committable(), 100)
    assert.deepEqual(t.doneAbove(), [102, 103, 110])
    const dispatched: number[] = []
    for (let o = 100; o < 108; o++) {
      if (t.shouldSkip(o)) t.skip(o)
      else {
        t.track(o)
        dispatched.push(o)
      }
    }
    assert.deepEqual(dispatched, [100, 101, 104, 105, 106, 107])
    assert.deepEqual(t.doneAbove(), [102, 103, 110])
    for (const o of dispatched) t.complete(o)
    assert.equal(t.committable(), 108)
    assert.deepEqual(t.doneAbove(), [110])
    // A jump (108, 109 compacted away) still finds 110.
    assert.equal(t.shouldSkip(110), true)
    t.skip(110)
    assert.equal(t.committable(), 111)
    assert.deepEqual(t.doneAbove(), [])
    assert.equal(t.shouldSkip(111), false)
  })

  it('answers shouldSkip for later offsets without consuming earlier ones', () => {
    const t = new PartitionOffsetTracker(0, [5, 9])
    assert.equal(t.shouldSkip(9), true)
    assert.equal(t.shouldSkip(7), false)
    assert.equal(t.shouldSkip(5), true)
    assert.deepEqual(t.doneAbove(), [5, 9])
  })

  it('drops the restored map once the position passes it', () => {
    const t = new PartitionOffsetTracker(0, [3, 4])
    t.advance(10) // 3 and 4 were not returned again (compaction)
    assert.equal(t.shouldSkip(3), false)
    assert.equal(t.shouldSkip(10), false)
    assert.deepEqual(t.doneAbove(), [])
    assert.equal(t.committable(), 10)
  })

  it('commits past restored offsets that directly follow the frontier', () => {
    // The codec cannot carry the committed offset itself: committing 2 would replay it.
    const t = new PartitionOffsetTracker(0, [2, 3, 5])
    t.track(0)
    t.track(1)
    t.complete(0)
    t.complete(1)
    assert.equal(t.committable(), 4)
    assert.deepEqual(t.doneAbove(), [5])
    // The records themselves still come, and are skipped.
    assert.equal(t.shouldSkip(2), true)
    t.skip(2)
    t.skip(3)
    assert.equal(t.committable(), 4)
  })

  it('grows past its initial capacity while the head wraps, with gaps', () => {
    const t = new PartitionOffsetTracker(0)
    const pending: number[] = []
    let offset = 0
    for (let i = 0; i < 10_000; i++) {
      t.track(offset)
      pending.push(offset)
      offset += i % 7 === 0 ? 4 : 1
      // Complete the oldest record every third step so the ring head wraps around.
      if (i % 3 === 0) t.complete(pending.shift()!)
    }
    assert.equal(t.committable(), pending[0])
    assert.equal(t.pendingCount(), pending.length)
    const last = pending[pending.length - 1]!
    // Newest first: the commit stays on the oldest until it completes.
    while (pending.length > 1) {
      t.complete(pending.pop()!)
      assert.equal(t.committable(), pending[0])
    }
    assert.equal(t.doneAbove().length, 6666 - 1)
    t.complete(pending.pop()!)
    assert.equal(t.pendingCount(), 0)
    assert.equal(t.committable(), last + 1)
  })

  describe('errors', () => {
    it('rejects out-of-order track and skip', () => {
      const t = new PartitionOffsetTracker(10)
      throwsCode(() => t.track(9), 'OFFSET_TRACKER_ORDER')
      t.track(10)
      throwsCode(() => t.track(10), 'OFFSET_TRACKER_ORDER')
      throwsCode(() => t.skip(10), 'OFFSET_TRACKER_ORDER')
      t.skip(12)
      throwsCode(() => t.track(11), 'OFFSET_TRACKER_ORDER')
      t.advance(20)
      throwsCode(() => t.skip(19), 'OFFSET_TRACKER_ORDER')
      assert.equal(t.committable(), 10)
    })

    it('rejects completing unknown or completed offsets', () => {
      const t = new PartitionOffsetTracker(0)
      throwsCode(() => t.complete(0), 'OFFSET_TRACKER_UNKNOWN')
      t.track(0)
      t.track(2)
      t.track(3)
      t.skip(4)
      throwsCode(() => t.complete(1), 'OFFSET_TRACKER_UNKNOWN') // a gap
      throwsCode(() => t.complete(4), 'OFFSET_TRACKER_UNKNOWN') // skipped
      throwsCode(() => t.complete(99), 'OFFSET_TRACKER_UNKNOWN')
      t.complete(2)
      throwsCode(() => t.complete(2), 'OFFSET_TRACKER_UNKNOWN') // completed, still in the ring
      t.complete(0)
      throwsCode(() => t.complete(0), 'OFFSET_TRACKER_UNKNOWN') // completed, released
      assert.equal(t.committable(), 3)
    })

    it('rejects invalid arguments', () => {
      throwsCode(() => new PartitionOffsetTracker(-1), 'OFFSET_TRACKER_INVALID')
      throwsCode(() => new PartitionOffsetTracker(1.5), 'OFFSET_TRACKER_INVALID')
      throwsCode(() => new PartitionOffsetTracker(10, [10]), 'OFFSET_TRACKER_INVALID')
      throwsCode(() => new PartitionOffsetTracker(10, [12, 11]), 'OFFSET_TRACKER_INVALID')
      throwsCode(() => new PartitionOffsetTracker(10, [12, 12]), 'OFFSET_TRACKER_INVALID')
      const t = new PartitionOffsetTracker(0)
      throwsCode(() => t.track(Number.NaN), 'OFFSET_TRACKER_INVALID')
      throwsCode(() => t.advance(-5), 'OFFSET_TRACKER_INVALID')
    })
  })

  describe('model-based', () => {
    type Step =
      | { kind: 'fetch'; gap: number; skip: boolean }
      | { kind: 'complete'; pick: number }
      | { kind: 'advance'; by: number }

    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('fetch' as const),
          gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1000 })),
          skip: fc.boolean(),
        }),
        weight: 4,
      },
      { arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat() }), weight: 4 },
      {
        arbitrary: fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 5 }) }),
        weight: 1,
      },
    )

    interface Scenario {
      position: number
      restoredDeltas: number[]
      steps: Step[]
    }

    const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
      position: fc.integer({ min: 0, max: 2 ** 40 }),
      restoredDeltas: fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { maxLength: 30 }),
      steps: fc.array(stepArb, { maxLength: 300 }),
    })

    /** Runs a scenario against the tracker and a naive model, checking them after every step. */
    function run(scenario: Scenario): {
      tracker: PartitionOffsetTracker
      done: Set<number>
      seen: number[]
      passRestored: (offset: number) => number
    } {
      const { position, steps } = scenario
      const restored = scenario.restoredDeltas.map((d) => position + d).sort((a, b) => a - b)
      const restoredSet = new Set(restored)
      const t = new PartitionOffsetTracker(position, restored)
      const pending: number[] = [] // sorted
      const done = new Set<number>() // tracked-and-completed or skipped
      const seen: number[] = []
      let frontier = position
      /** With nothing pending, the commit passes restored offsets right at the frontier. */
      const passRestored = (offset: number): number => {
        let o = offset
        while (restoredSet.has(o)) o++
        return o
      }
      let previous = t.committable()
      let previousVersion = t.version
      let previousState = JSON.stringify([t.committable(), t.doneAbove()])
      for (const step of steps) {
        if (step.kind === 'fetch') {
          const offset = frontier + step.gap
          seen.push(offset)
          const skip = t.shouldSkip(offset)
          assert.equal(skip, restoredSet.has(offset))
          if (skip || step.skip) {
            t.skip(offset)
            done.add(offset)
          } else {
            t.track(offset)
            pending.push(offset)
          }
          frontier = offset + 1
        } else if (step.kind === 'complete') {
          if (pending.length === 0) continue
          const [offset] = pending.splice(step.pick % pending.length, 1)
          t.complete(offset!)
          done.add(offset!)
        } else {
          frontier += step.by
          t.advance(frontier)
        }
        const committable = t.committable()
        assert.ok(committable >= previous, 'committable never decreases')
        previous = committable
        assert.equal(committable, pending[0] ?? passRestored(frontier))
        assert.ok(pending.length === 0 || committable <= pending[0]!)
        assert.equal(t.pendingCount(), pending.length)
        assert.equal(t.lowestPending(), pending[0])
        const expectedDone = [
          ...[...done].filter((o) => o > committable),
          ...restored.filter((o) => o >= frontier && o > committable),
        ].sort((a, b) => a - b)
        const doneAbove = t.doneAbove()
        assert.deepEqual(doneAbove, expectedDone)
        // Commit ticks skip encoding while the version stands: the state must not have moved.
        const state = JSON.stringify([committable, doneAbove])
        if (t.version === previousVersion)
          assert.equal(state, previousState, 'unchanged version, unchanged state')
        previousVersion = t.version
        previousState = state
        assert.deepEqual(decodeOffsetMap(committable, encodeOffsetMap(committable, doneAbove)), doneAbove)
      }
      for (const offset of pending.splice(0)) {
        t.complete(offset)
        done.add(offset)
      }
      assert.equal(t.committable(), passRestored(frontier))
      const last = seen[seen.length - 1]
      if (last !== undefined) assert.ok(t.committable() >= last + 1)
      return { tracker: t, done, seen, passRestored }
    }

    it('never commits past a pending record; all done commits past the last offset', () => {
      fc.assert(
        fc.property(scenarioArb, (scenario) => void run(scenario)),
        { numRuns: 300 },
      )
    })

    it('once everything completes without advances, committable is the last offset + 1', () => {
      const noAdvance = scenarioArb.map((s) => ({
        ...s,
        steps: s.steps.filter((step) => step.kind !== 'advance'),
      }))
      fc.assert(
        fc.property(noAdvance, (scenario) => {
          const { tracker, seen, passRestored } = run(scenario)
          assert.equal(
            tracker.committable(),
            passRestored(seen.length > 0 ? seen[seen.length - 1]! + 1 : scenario.position),
          )
        }),
        { numRuns: 200 },
      )
    })

    it('a restart from committable + offset map skips only records that were done', () => {
      fc.assert(
        fc.property(scenarioArb, fc.nat(), (scenario, cut) => {
          const steps = scenario.steps.slice(0, cut % (scenario.steps.length + 1))
          const { position } = scenario
          const restored = scenario.restoredDeltas.map((d) => position + d).sort((a, b) => a - b)
          const t = new PartitionOffsetTracker(position, restored)
          const done = new Set(restored)
          const fetched: number[] = []
          let frontier = position
          const pending: number[] = []
          for (const step of steps) {
            if (step.kind === 'fetch') {
              const offset = frontier + step.gap
              fetched.push(offset)
              if (t.shouldSkip(offset) || step.skip) t.skip(offset)
              else {
                t.track(offset)
                pending.push(offset)
                done.delete(offset)
              }
              if (!pending.includes(offset)) done.add(offset)
              frontier = offset + 1
            } else if (step.kind === 'complete' && pending.length > 0) {
              const [offset] = pending.splice(step.pick % pending.length, 1)
              t.complete(offset!)
              done.add(offset!)
            }
          }
          // Crash: a new owner starts from the commit and its offset map.
          const committed = t.committable()
          const map = encodeOffsetMap(committed, t.doneAbove())
          const next = new PartitionOffsetTracker(committed, decodeOffsetMap(committed, map))
          for (const offset of fetched.filter((o) => o >= committed)) {
            if (next.shouldSkip(offset)) {
              assert.ok(done.has(offset), `offset ${offset} skipped but was not done`)
              next.skip(offset)
            } else next.track(offset)
          }
          for (const offset of pending)
            assert.ok(offset >= committed, `pending ${offset} below commit ${committed}`)
        }),
        { numRuns: 300 },
      )
    })
  })
})
