// The continuous style commits on progress as well as on time: once `commitAfterRecords` records
// finished since the last commit started, or `commitIntervalMs` after it, whichever comes first;
// one commit in flight per member, and triggers that arrive while one is out coalesce into a
// single follow-up. So a crash replays little finished work, without a commit per record.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setImmediate as tick } from 'node:timers/promises'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'
/** Long enough that no commit in these tests can come from the timer. */
const NEVER_MS = 600_000

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await tick()
}

test('continuous style: N finished records are committed without waiting for commitIntervalMs', async () => {
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: {
          capacity: 10,
          ordering: 'unordered',
          commitIntervalMs: NEVER_MS,
          commitAfterRecords: 20,
        },
      },
    ],
  })
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    h.source.append(T, 0, 20)
    await waitUntil(() => h.committedOffset(T, 0) === 20, {
      timeoutMs: 10_000,
      message: 'the 20 finished records committed',
    })
    // Fewer than N finished since: they wait for the next trigger (here, the interval).
    h.source.append(T, 0, 5)
    await waitUntil(() => h.runtime.health().partitions.every((p) => p.inFlight === 0), {
      message: 'the 5 later records finished',
    })
    await settle()
    assert.equal(h.committedOffset(T, 0), 20)
    assert.equal(h.commits.started, 1)
  } finally {
    await h.runtime.stop()
  }
  assert.equal(h.committedOffset(T, 0), 25, 'the shutdown commits the rest')
})

test('continuous style: fewer than N finished records are committed by commitIntervalMs', async () => {
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 10, ordering: 'unordered', commitIntervalMs: 100, commitAfterRecords: 1000 },
      },
    ],
  })
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    h.source.append(T, 0, 5)
    await waitUntil(() => h.committedOffset(T, 0) === 5, {
      timeoutMs: 10_000,
      message: 'the 5 finished records committed on time',
    })
  } finally {
    await h.runtime.stop()
  }
})

test('continuous style: a burst of finished records makes one commit per N records at most, never one per record', async () => {
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: {
          capacity: 100,
          ordering: 'unordered',
          commitIntervalMs: NEVER_MS,
          commitAfterRecords: 50,
        },
      },
    ],
  })
  await h.runtime.start()
  await h.source.assign([0, 1].map((partition) => ({ topic: T, partition })))
  try {
    h.source.append(T, 0, 1000)
    h.source.append(T, 1, 1000)
    await waitUntil(() => h.committedOffset(T, 0) === 1000 && h.committedOffset(T, 1) === 1000, {
      timeoutMs: 20_000,
      message: 'both partitions committed at their end',
    })
    assert.ok(h.commits.started >= 1)
    // 2000 records, N = 50: at most 40 commits (fewer when commits coalesce).
    assert.ok(h.commits.started <= 2000 / 50, `${h.commits.started} commits for 2000 records`)
    assert.equal(h.commits.maxInFlight, 1)
  } finally {
    await h.runtime.stop()
  }
})

test('continuous style: triggers during a slow commit coalesce into exactly one follow-up, one commit in flight', async () => {
  let answer: (() => void) | undefined
  let slow = true
  const h = createHarness({
    commitLatency: () =>
      slow
        ? new Promise<void>((resolve) => {
            answer = resolve
          })
        : undefined,
    topics: [
      {
        name: T,
        processing: {
          capacity: 10,
          ordering: 'unordered',
          commitIntervalMs: NEVER_MS,
          commitAfterRecords: 10,
        },
      },
    ],
  })
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    h.source.append(T, 0, 10)
    await waitUntil(() => h.commits.started === 1, { message: 'the first commit was sent' })
    // 20 times N records finish while the broker has not answered.
    h.source.append(T, 0, 200)
    await waitUntil(() => h.runtime.health().partitions.every((p) => p.inFlight === 0), {
      message: 'the 200 records finished',
    })
    await settle()
    assert.equal(h.commits.started, 1, 'no second commit while the first is in flight')
    slow = false
    answer!()
    await waitUntil(() => h.committedOffset(T, 0) === 210, { message: 'the follow-up committed everything' })
    await settle()
    assert.equal(h.commits.started, 2, 'one follow-up for all the triggers')
    assert.equal(h.commits.maxInFlight, 1)
  } finally {
    slow = false
    answer?.()
    await h.runtime.stop()
  }
})

test('blocking style: commits after each poll, not on finished-record counts', async () => {
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: {
          style: 'blocking',
          capacity: 10,
          maxPollRecords: 100,
          commitIntervalMs: NEVER_MS,
          commitAfterRecords: 10,
        },
      },
    ],
  })
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    h.source.append(T, 0, 100)
    await waitUntil(() => h.committedOffset(T, 0) === 100, { message: 'the poll committed' })
    await settle()
    assert.ok(h.commits.started <= 2, `${h.commits.started} commits for one poll of 100 records`)
  } finally {
    await h.runtime.stop()
  }
})
