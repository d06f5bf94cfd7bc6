// Position resets (offset reset, log truncation) in the runtime, on an in-memory source: a reset
// never lets a commit pass a record that is still unfinished, and never skips a record that was
// taken but not yet handled. Either would lose records (at-least-once).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// Truncation after an unclean leader election: the fetcher moves the position back to the
// diverging epoch's end offset, which can lie above records that were taken and are still
// running (the fetch position runs ahead of processing by up to a buffer). The commit must stay
// below those records until they finish: a commit past them, then a crash, would lose them.
test('a position reset above records still running does not commit past them', async () => {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const finished = new Set<number>()
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 10, ordering: 'unordered' },
        handler: async (record) => {
          if (record.offset < 5) await gate
          finished.add(record.offset)
        },
      },
    ],
  })
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => [5, 6, 7, 8, 9].every((o) => finished.has(o)), { message: '5-9 finished' })
    assert.equal(h.committedOffset(T, 0) ?? 0, 0, 'nothing passed the running records yet')
    // The leader's log diverged at 8: the engine refetches from 8 (records 0-4 are still running).
    h.source.hooks.onPositionReset({ topic: T, partition: 0, from: 10, to: 8, reason: 'truncation' })
    h.source.seek({ topic: T, partition: 0 }, 8)
    // Let the commit timer (50 ms) run a few times.
    await sleep(300)
    const committed = h.committedOffset(T, 0) ?? 0
    assert.ok(
      committed <= 0,
      `committed ${committed} while records 0-4 are unfinished: a crash now loses them`,
    )
  } finally {
    release()
    await h.runtime.stop()
  }
})

// Records taken but not started when a reset comes are handled, not dropped: dropping them
// relies on the next fetch returning them, and a reset to an offset above them (a truncation
// whose end offset lies above the lane's queue) means no fetch ever will. The fetcher keeps its
// buffered records below the new position for the same reason (see
// test/unit/engine/fetcher-truncation.test.ts).
test('a position reset above records queued in their lane does not skip them', async () => {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const handled: number[] = []
  let takenAtReset = 0
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 4, ordering: 'partition' },
        handler: async (record) => {
          if (record.offset === 0) await gate
          handled.push(record.offset)
        },
      },
    ],
  })
  h.source.append(T, 0, 30)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => (h.source.handed.get('t\u00000') ?? 0) >= 10, {
      message: 'records queued behind record 0',
    })
    takenAtReset = h.source.handed.get('t\u00000')!
    // Truncation: the leader's log diverged at 20; the fetch position was past it, with records
    // from `takenAtReset` on buffered (the fetcher reports `from` = its first buffered offset).
    h.source.hooks.onPositionReset({
      topic: T,
      partition: 0,
      from: takenAtReset,
      to: 20,
      reason: 'truncation',
    })
    h.source.seek({ topic: T, partition: 0 }, 20)
    release()
    await waitUntil(() => handled.includes(29), { message: 'records from 20 on handled' })
    await sleep(200)
  } finally {
    await h.runtime.stop()
  }
  const skipped = [...Array(Math.min(takenAtReset, 20)).keys()].filter((o) => !handled.includes(o))
  assert.deepEqual(skipped, [], `records below the reset target never handled: ${skipped}`)
  assert.ok((h.committedOffset(T, 0) ?? 0) <= Math.min(...skipped, 30))
})

// The dispatcher yields inside a batch once its time slice is spent (here: a filter that takes
// longer than a slice). Records of the batch it has not reached yet were already taken from the
// source, so a reset that comes during that yield, to a position above them, must not drop
// them: they are dispatched before the reset applies, and only records from its position on
// are left to come again.
test('a position reset while the dispatcher is part-way through a batch keeps the batch records below it', async () => {
  const handled = new Set<number>()
  let resetSent = false
  let takenAtReset = 0
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 100, ordering: 'unordered' },
        handler: (r) => void handled.add(r.offset),
      },
    ],
    filter: (record) => {
      const until = performance.now() + 7
      while (performance.now() < until);
      if (record.offset === 0 && !resetSent) {
        resetSent = true
        // Runs while the dispatcher waits for its next slice, after this record.
        setImmediate(() => {
          takenAtReset = h.source.handed.get('t\u00000') ?? 0
          h.source.hooks.onPositionReset({
            topic: T,
            partition: 0,
            from: takenAtReset,
            to: 8,
            reason: 'truncation',
          })
          h.source.seek({ topic: T, partition: 0 }, 8)
        })
      }
      return true
    },
  })
  h.source.append(T, 0, 12)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => [8, 9, 10, 11].every((o) => handled.has(o)), {
      message: 'records from 8 on handled',
    })
    await sleep(200)
  } finally {
    await h.runtime.stop()
  }
  assert.ok(takenAtReset > 1, `the batch was taken whole before the reset (${takenAtReset} records)`)
  const skipped = [...Array(8).keys()].filter((o) => !handled.has(o))
  assert.deepEqual(skipped, [], `records below the reset position never handled: ${skipped}`)
  assert.ok((h.committedOffset(T, 0) ?? 0) <= 12)
})
