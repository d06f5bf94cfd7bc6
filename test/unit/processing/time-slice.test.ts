// A time slice reads the clock at every question, so a slow call is seen right after it, whatever
// came before: cheap questions first, or a cheap question next to each slow call. Synchronous
// throughout: the slice's end timer cannot run, so only the clock decides. The slice also
// tells when it last read the clock (what the record path stamps units with).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TimeSlice } from '../../../src/processing/time-slice.ts'

/** Keeps the CPU busy for `ms` (a CPU-bound user call). */
function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // spin
  }
}

/** Calls of 2 ms in a 5 ms slice: the third ends past it (wall time, so load makes no more fit). */
const MAX_CALLS = 3

test('after many cheap questions, slow calls are seen at once', () => {
  const slice = new TimeSlice(5)
  assert.equal(slice.spent(), false)
  for (let i = 0; i < 200; i++) assert.equal(slice.spent(), false)
  let calls = 0
  while (!slice.spent()) {
    busy(2)
    calls++
    assert.ok(calls <= 100, 'the slice never ended')
  }
  assert.ok(calls <= MAX_CALLS, `${calls} calls of 2 ms in a 5 ms slice`)
})

test('slow calls from the start', () => {
  const slice = new TimeSlice(5)
  let calls = 0
  while (!slice.spent()) {
    busy(2)
    calls++
    assert.ok(calls <= 100, 'the slice never ended')
  }
  assert.ok(calls <= MAX_CALLS, `${calls} calls of 2 ms in a 5 ms slice`)
})

test('a cheap question next to each slow call (two checks with nothing between) does not hide the calls', () => {
  const slice = new TimeSlice(5)
  let calls = 0
  for (;;) {
    if (slice.spent()) break
    if (slice.spent()) break
    busy(2)
    calls++
    assert.ok(calls <= 100, 'the slice never ended')
  }
  assert.ok(calls <= MAX_CALLS, `${calls} calls of 2 ms in a 5 ms slice`)
})

test('once spent, the slice stays spent until it ends', () => {
  const slice = new TimeSlice(1)
  slice.spent()
  busy(2)
  for (let i = 0; i < 20; i++) assert.equal(slice.spent(), true)
})

test('lastRead is the clock at the last question', () => {
  const slice = new TimeSlice(5)
  const before = performance.now()
  slice.spent()
  const after = performance.now()
  assert.ok(
    slice.lastRead >= before && slice.lastRead <= after,
    `${slice.lastRead} not within [${before}, ${after}]`,
  )
  busy(2)
  slice.spent()
  assert.ok(slice.lastRead >= after + 2, 'read again at the next question')
})
