// Consumer-group progress: the offset map restored from the committed metadata, commits of the
// lowest unfinished offset with the map above it, intake held near the metadata size limit or
// when the window above the lowest unfinished record is full, gaps, reposition.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AssignedPartition, OffsetToCommit } from '../../../src/engine/types.ts'
import { MultilaneError } from '../../../src/errors.ts'
import {
  type ErrorOccurredEvent,
  EventBus,
  type MultilaneEvents,
} from '../../../src/instrumentation/events.ts'
import {
  encodeCommitMetadata,
  MAX_COMMIT_METADATA_BYTES,
} from '../../../src/processing/consumer-group/commit-metadata.ts'
import {
  CommittedPartition,
  OFFSET_WINDOW_LIMIT,
  OffsetCommitProgress,
} from '../../../src/processing/consumer-group/offset-commit-progress.ts'
import { encodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import type { PartitionProgress } from '../../../src/processing/progress.ts'

/** A progress whose commits land in `commits` (or fail while `failing`), with its events. */
function setup() {
  const commits: OffsetToCommit[][] = []
  const state = { failing: false }
  const events = new EventBus()
  const errors: ErrorOccurredEvent[] = []
  const limits: Array<MultilaneEvents['offsets.map_limit_reached']> = []
  const windows: Array<MultilaneEvents['offsets.window_limit_reached']> = []
  const discarded: Array<MultilaneEvents['offsets.map_discarded']> = []
  events.on('error.occurred', (e) => errors.push(e))
  events.on('offsets.map_limit_reached', (e) => limits.push(e))
  events.on('offsets.window_limit_reached', (e) => windows.push(e))
  events.on('offsets.map_discarded', (e) => discarded.push(e))
  const progress = new OffsetCommitProgress({
    consumerGroup: 'g',
    events,
    commit: async (offsets) => {
      if (state.failing) throw new Error('coordinator unavailable')
      commits.push(
        offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: o.offset,
          metadata: o.metadata,
        })),
      )
    },
  })
  /** How often the progress said intake may resume. */
  const freed = { count: 0 }
  const target = { topic: 't', partition: 0, intakeFreed: () => freed.count++ }
  const assigned = (
    position: number,
    committed: AssignedPartition['committed'] = null,
  ): AssignedPartition => ({
    topic: 't',
    partition: 0,
    position,
    committed,
  })
  return { progress, commits, state, errors, limits, windows, discarded, freed, target, assigned }
}

/** A deterministic pseudo-random sequence (so the offset map does not compress). */
function random01(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    // xorshift32: exact in 32-bit integer arithmetic
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 2 ** 32
  }
}

describe('OffsetCommitProgress', () => {
  it('restores the offset map from the committed metadata and skips what it lists', () => {
    const { progress, target, assigned } = setup()
    const metadata = encodeCommitMetadata({ offsetMap: { base: 10, token: encodeOffsetMap(10, [12, 15]) } })
    const p = progress.open(target, assigned(10, { offset: 10, metadata }))
    assert.equal(p.committedOffset, 10)
    assert.deepEqual(
      [10, 11, 12, 13, 14, 15].map((o) => p.shouldSkip(o)),
      [false, false, true, false, false, true],
    )
  })

  it('a damaged map is reported and costs only replays', () => {
    const { progress, target, assigned, discarded } = setup()
    const p = progress.open(target, assigned(10, { offset: 10, metadata: 'ml1;ob=10;om=!!!' }))
    assert.equal(p.shouldSkip(12), false)
    assert.equal(discarded.length, 1)
    assert.equal(discarded[0]!.reason, 'undecodable')
  })

  // MirrorMaker 2's group offset sync copies the metadata verbatim while it translates the offset. Decoded against the new offset, the map of 5005 would mark records
  // 4004–4006 done, and they would never be processed.
  it('ignores, with an event, a map written for another offset than the one stored beside it', () => {
    const { progress, target, assigned, discarded } = setup()
    const upstream = encodeCommitMetadata({
      offsetMap: { base: 5005, token: encodeOffsetMap(5005, [5007, 5008, 5009]) },
    })
    const p = progress.open(target, assigned(4002, { offset: 4002, metadata: upstream }))
    for (const o of [4004, 4005, 4006, 5007]) assert.equal(p.shouldSkip(o), false, `${o} must be processed`)
    assert.deepEqual(
      discarded.map((d) => [d.reason, d.mapBase, d.committedOffset]),
      [['base_mismatch', 5005, 4002]],
    )
    // A map from a writer that did not store its base is not trusted either.
    const untied = progress.open(
      target,
      assigned(4002, { offset: 4002, metadata: `ml1;om=${encodeOffsetMap(4002, [4004])}` }),
    )
    assert.equal(untied.shouldSkip(4004), false)
    assert.equal(discarded.length, 2)
  })

  // A restored offset equal to the next offset to fetch is part of the next commit; left out, the
  // record would run again after the next crash.
  it('commits past restored offsets that directly follow the position', async () => {
    const { progress, target, assigned, commits } = setup()
    const metadata = encodeCommitMetadata({
      offsetMap: { base: 10, token: encodeOffsetMap(10, [11, 12, 14]) },
    })
    const p = progress.open(target, assigned(10, { offset: 10, metadata }))
    p.track(10)
    p.finish(10, 'succeeded')
    await progress.flush([p])
    // 11 and 12 are done: the commit passes them; 14 stays in the map, relative to 13.
    assert.equal(commits[0]![0]!.offset, 13)
    assert.equal(
      commits[0]![0]!.metadata,
      encodeCommitMetadata({ offsetMap: { base: 13, token: encodeOffsetMap(13, [14]) } }),
    )
    // The records themselves are still skipped when they come.
    assert.equal(p.shouldSkip(11), true)
    p.skip(11)
    p.skip(12)
    p.track(13)
    p.finish(13, 'succeeded')
    assert.equal(p.shouldSkip(14), true)
    p.skip(14)
    await progress.flush([p])
    assert.deepEqual(commits[1]![0]!.offset, 15)
  })

  it('commits the lowest unfinished offset with the map above it, and only when something changed', async () => {
    const { progress, target, assigned, commits } = setup()
    const p = progress.open(target, assigned(0))
    for (let o = 0; o < 5; o++) p.track(o)
    p.finish(1, 'succeeded')
    p.finish(3, 'dead_lettered')
    await progress.flush([p])
    assert.equal(commits.length, 1)
    assert.equal(commits[0]![0]!.offset, 0)
    assert.equal(
      commits[0]![0]!.metadata,
      encodeCommitMetadata({ offsetMap: { base: 0, token: encodeOffsetMap(0, [1, 3]) } }),
    )
    assert.equal(p.committedOffset, 0)
    await progress.flush([p])
    assert.equal(commits.length, 1, 'nothing changed: no commit')
    for (const o of [0, 2, 4]) p.finish(o, 'succeeded')
    await progress.flush([p])
    assert.deepEqual(commits[1], [
      { topic: 't', partition: 0, offset: 5, metadata: encodeCommitMetadata({}) },
    ])
  })

  it('a failed commit is reported and retried by the next flush', async () => {
    const { progress, target, assigned, commits, state, errors } = setup()
    const p = progress.open(target, assigned(0))
    p.track(0)
    p.finish(0, 'succeeded')
    state.failing = true
    await progress.flush([p])
    assert.equal(errors.length, 1)
    assert.equal(p.committedOffset, -1)
    state.failing = false
    await progress.flush([p])
    assert.equal(commits.at(-1)![0]!.offset, 1)
  })

  it('holds intake near the metadata limit, leaves the map out above it, and releases under half', async () => {
    const { progress, target, assigned, commits, limits, freed } = setup()
    const p = progress.open(target, assigned(0))
    const random = random01(7)
    const pending: number[] = []
    p.track(0) // stays pending: everything else is above the committed offset
    for (let o = 1; o < 80_000; o++) {
      p.track(o)
      if (random() < 0.5) p.finish(o, 'succeeded')
      else pending.push(o)
    }
    assert.ok(p.intakeAllowance() > 0)
    await progress.flush([p])
    assert.equal(p.intakeAllowance(), 0, 'held')
    assert.equal(limits.length, 1)
    assert.ok(limits[0]!.bytes > MAX_COMMIT_METADATA_BYTES * 0.75)
    assert.equal(commits[0]![0]!.metadata, encodeCommitMetadata({}), 'a map over the limit is left out')
    for (const o of pending.slice(0, 100)) p.finish(o, 'succeeded')
    await progress.flush([p])
    assert.equal(p.intakeAllowance(), 0, 'still over: no flapping')
    assert.equal(limits.length, 1, 'reported once')
    assert.equal(freed.count, 0)
    for (const o of pending.slice(100)) p.finish(o, 'succeeded')
    await progress.flush([p])
    assert.ok(p.intakeAllowance() > 0, 'released')
    assert.equal(freed.count, 1, 'and said so')
    assert.ok((commits.at(-1)![0]!.metadata?.length ?? 0) < 100)
  })

  // A map restored from the previous owner, over 75 % of the limit, must not hold intake: only
  // taking records can consume restored offsets, so holding it would hold it for good.
  it('a large restored map never holds intake: only taking records can shrink it', async () => {
    const { progress, target, assigned, limits, commits } = setup()
    const random = random01(11)
    const restored: number[] = []
    for (let o = 1001; o < 20_800; o++) if (random() < 0.5) restored.push(o)
    const token = encodeOffsetMap(1000, restored)
    const metadata = encodeCommitMetadata({ offsetMap: { base: 1000, token } })
    assert.ok(Buffer.byteLength(metadata) > MAX_COMMIT_METADATA_BYTES * 0.75)
    assert.ok(Buffer.byteLength(metadata) <= MAX_COMMIT_METADATA_BYTES)
    const p = progress.open(target, assigned(1000, { offset: 1000, metadata }))
    // The new owner works through the partition, a few records in flight at a time.
    let next = 1000
    while (next < 20_800) {
      const taken: number[] = []
      while (taken.length < 20 && next < 20_800 && p.intakeAllowance() > 0) {
        if (p.shouldSkip(next)) p.skip(next)
        else {
          p.track(next)
          taken.push(next)
        }
        next++
      }
      assert.ok(taken.length > 0 || next === 20_800, `stalled at ${next}`)
      for (const o of taken) p.finish(o, 'succeeded')
      await progress.flush([p])
    }
    assert.equal(limits.length, 0)
    assert.equal(commits.at(-1)![0]!.offset, 20_800)
  })

  // One stuck record in unordered processing must not let the tracker grow without bound
  // (millions of offsets, long commits that block the event loop, a map the decoder rejects).
  it('holds intake once the window above the lowest unfinished record is full, and says so once', () => {
    const { progress, target, assigned, windows } = setup()
    const p = progress.open(target, assigned(0))
    p.track(0) // stuck
    let o = 1
    while (p.intakeAllowance() > 0) {
      p.track(o)
      p.finish(o, 'succeeded')
      o++
    }
    assert.equal(o, OFFSET_WINDOW_LIMIT)
    assert.equal(p.intakeAllowance(), 0)
    assert.deepEqual(windows, [
      { consumerGroup: 'g', topic: 't', partition: 0, lowestUnfinished: 0, limit: OFFSET_WINDOW_LIMIT },
    ])
    p.finish(0, 'succeeded')
    assert.equal(p.intakeAllowance(), OFFSET_WINDOW_LIMIT, 'the stuck record finished: the window is empty')
    assert.equal(windows.length, 1)
  })

  it('a consumer group cannot release a record; abandoning one leaves it uncommitted', async () => {
    const { progress, target, assigned, commits } = setup()
    const p = progress.open(target, assigned(0))
    p.track(0)
    p.track(1)
    assert.throws(
      () => p.finish(0, 'released'),
      (e: unknown) => e instanceof MultilaneError && e.code === 'PROGRESS_MISMATCH',
    )
    p.abandon(0)
    p.finish(1, 'succeeded')
    await progress.flush([p])
    assert.equal(commits[0]![0]!.offset, 0)
  })

  // Transaction markers and aborted records at the end of a partition are
  // gaps the commit must pass, or the lag never reaches 0.
  it('commits past gaps the source reports after the last record', async () => {
    const { progress, target, assigned, commits } = setup()
    const p = progress.open(target, assigned(0))
    p.track(0)
    p.finish(0, 'succeeded')
    p.advance(2) // offset 1 was a transaction marker
    await progress.flush([p])
    assert.equal(commits[0]![0]!.offset, 2)
  })

  it('reposition starts over at the new offset and releases a held intake', async () => {
    const { progress, target, assigned, freed } = setup()
    const p = progress.open(target, assigned(0, { offset: 0, metadata: null }))
    const random = random01(3)
    p.track(0)
    for (let o = 1; o < 40_000; o++) {
      p.track(o)
      if (random() < 0.5) p.finish(o, 'succeeded')
    }
    await progress.flush([p])
    assert.equal(p.intakeAllowance(), 0)
    const moved = progress.reposition(p, 500)
    assert.equal(freed.count, 1)
    assert.ok(moved.intakeAllowance() > 0)
    assert.ok(moved instanceof CommittedPartition)
    assert.equal(moved.committedOffset, -1)
    assert.equal(moved.committable(), 500)
  })

  it('refuses progress it did not create', () => {
    const { progress } = setup()
    const foreign: PartitionProgress = {
      shouldSkip: () => false,
      skip: () => {},
      track: () => {},
      finish: () => {},
      abandon: () => {},
      advance: () => {},
      intakeAllowance: () => 0,
      committedOffset: -1,
    }
    assert.throws(
      () => progress.reposition(foreign, 0),
      (e: unknown) => e instanceof MultilaneError && e.code === 'PROGRESS_MISMATCH',
    )
  })
})
