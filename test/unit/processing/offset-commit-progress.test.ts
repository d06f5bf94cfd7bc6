import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AssignedPartition, OffsetToCommit } from '../../../src/engine/types.ts'
import { MultilaneError } from '../../../src/errors.ts'
import {
  type ErrorOccurredEvent,
  EventBus,
  type MultilaneEvents,
} from '../../../src/instrumentation/events.ts'
import { encodeCommitMetadata, MAX_COMMIT_METADATA_BYTES } from '../../../src/processing/commit-metadata.ts'
import { CommittedPartition, OffsetCommitProgress } from '../../../src/processing/offset-commit-progress.ts'
import { encodeOffsetMap } from '../../../src/processing/offset-map-codec.ts'
import type { PartitionProgress } from '../../../src/processing/progress.ts'

/** A progress whose commits land in `commits` (or fail while `failing`), with its events. */
function setup() {
  const commits: OffsetToCommit[][] = []
  const state = { failing: false }
  const events = new EventBus()
  const errors: ErrorOccurredEvent[] = []
  const limits: Array<MultilaneEvents['offsets.map_limit_reached']> = []
  events.on('error.occurred', (e) => errors.push(e))
  events.on('offsets.map_limit_reached', (e) => limits.push(e))
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
  const held: boolean[] = []
  const target = { topic: 't', partition: 0, holdIntake: (h: boolean) => held.push(h) }
  const assigned = (
    position: number,
    committed: AssignedPartition['committed'] = null,
  ): AssignedPartition => ({
    topic: 't',
    partition: 0,
    position,
    committed,
  })
  return { progress, commits, state, errors, limits, held, target, assigned }
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
    const metadata = encodeCommitMetadata({ offsetMap: encodeOffsetMap(10, [12, 15]) })
    const p = progress.open(target, assigned(10, { offset: 10, metadata }))
    assert.equal(p.committedOffset, 10)
    assert.deepEqual(
      [10, 11, 12, 13, 14, 15].map((o) => p.shouldSkip(o)),
      [false, false, true, false, false, true],
    )
  })

  it('a damaged map is reported and costs only replays', () => {
    const { progress, target, assigned, errors } = setup()
    const p = progress.open(target, assigned(10, { offset: 10, metadata: 'ml1;om=!!!' }))
    assert.equal(p.shouldSkip(12), false)
    assert.equal(errors.length, 1)
    assert.equal(errors[0]!.type, 'consumer.commit.error')
  })

  it('commits the lowest unfinished offset with the map above it, and only when something changed', async () => {
    const { progress, target, assigned, commits } = setup()
    const p = progress.open(target, assigned(0))
    for (let o = 0; o < 5; o++) p.track(o)
    p.complete(1)
    p.complete(3)
    await progress.flush([p])
    assert.equal(commits.length, 1)
    assert.equal(commits[0]![0]!.offset, 0)
    assert.equal(commits[0]![0]!.metadata, encodeCommitMetadata({ offsetMap: encodeOffsetMap(0, [1, 3]) }))
    assert.equal(p.committedOffset, 0)
    await progress.flush([p])
    assert.equal(commits.length, 1, 'nothing changed: no commit')
    for (const o of [0, 2, 4]) p.complete(o)
    await progress.flush([p])
    assert.deepEqual(commits[1], [
      { topic: 't', partition: 0, offset: 5, metadata: encodeCommitMetadata({}) },
    ])
  })

  it('a failed commit is reported and retried by the next flush', async () => {
    const { progress, target, assigned, commits, state, errors } = setup()
    const p = progress.open(target, assigned(0))
    p.track(0)
    p.complete(0)
    state.failing = true
    await progress.flush([p])
    assert.equal(errors.length, 1)
    assert.equal(p.committedOffset, -1)
    state.failing = false
    await progress.flush([p])
    assert.equal(commits.at(-1)![0]!.offset, 1)
  })

  it('holds intake near the metadata limit, leaves the map out above it, and releases under half', async () => {
    const { progress, target, assigned, commits, limits, held } = setup()
    const p = progress.open(target, assigned(0))
    const random = random01(7)
    const pending: number[] = []
    p.track(0) // stays pending: everything else is above the committed offset
    for (let o = 1; o < 80_000; o++) {
      p.track(o)
      if (random() < 0.5) p.complete(o)
      else pending.push(o)
    }
    await progress.flush([p])
    assert.deepEqual(held, [true])
    assert.equal(limits.length, 1)
    assert.ok(limits[0]!.bytes > MAX_COMMIT_METADATA_BYTES * 0.75)
    assert.equal(commits[0]![0]!.metadata, encodeCommitMetadata({}), 'a map over the limit is left out')
    for (const o of pending.slice(0, 100)) p.complete(o)
    await progress.flush([p])
    assert.deepEqual(held, [true], 'still over: no flapping')
    assert.equal(limits.length, 1, 'reported once')
    for (const o of pending.slice(100)) p.complete(o)
    await progress.flush([p])
    assert.deepEqual(held, [true, false])
    assert.ok((commits.at(-1)![0]!.metadata?.length ?? 0) < 100)
  })

  it('reposition starts over at the new offset and releases a held intake', async () => {
    const { progress, target, assigned, held } = setup()
    const p = progress.open(target, assigned(0, { offset: 0, metadata: null }))
    const random = random01(3)
    p.track(0)
    for (let o = 1; o < 40_000; o++) {
      p.track(o)
      if (random() < 0.5) p.complete(o)
    }
    await progress.flush([p])
    assert.deepEqual(held, [true])
    const moved = progress.reposition(p, 500)
    assert.deepEqual(held, [true, false])
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
      complete: () => {},
      committedOffset: -1,
    }
    assert.throws(
      () => progress.reposition(foreign, 0),
      (e: unknown) => e instanceof MultilaneError && e.code === 'PROGRESS_MISMATCH',
    )
  })
})
