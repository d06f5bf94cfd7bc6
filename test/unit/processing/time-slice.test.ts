// A time slice reads the clock only as often as the work between questions requires: cheap
// questions are answered from an estimate, and once user calls turn slow the slice is declared
// spent within a bounded number of calls. Synchronous throughout: the slice's end timer cannot
// run, so only the clock decides.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MAX_UNTIMED_QUESTIONS, TimeSlice } from '../../../src/processing/time-slice.ts'

/** Keeps the CPU busy for `ms` (a CPU-bound user call). */
function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // spin
  }
}

test('after cheap calls, calls that turn slow overrun the slice by a bounded number of calls', () => {
  const slice = new TimeSlice(5)
  assert.equal(slice.spent(), false)
  // Cheap work between questions: the estimate stretches the reads apart.
  for (let i = 0; i < 200; i++) assert.equal(slice.spent(), false)
  let slowCalls = 0
  const started = performance.now()
  while (!slice.spent()) {
    busy(2)
    slowCalls++
    assert.ok(slowCalls <= 100, 'the slice never ended')
  }
  // At most MAX_UNTIMED_QUESTIONS calls go by unread, and the 5 ms slice holds 3 calls of 2 ms.
  assert.ok(
    slowCalls <= MAX_UNTIMED_QUESTIONS + 3,
    `${slowCalls} calls of 2 ms before the slice was spent (${Math.round(performance.now() - started)} ms)`,
  )
})

test('slow calls from the start are timed one by one', () => {
  const slice = new TimeSlice(5)
  assert.equal(slice.spent(), false)
  let calls = 0
  while (!slice.spent()) {
    busy(2)
    calls++
    assert.ok(calls <= 100, 'the slice never ended')
  }
  assert.ok(calls <= 3, `${calls} calls of 2 ms in a 5 ms slice`)
})

test('once spent, the slice stays spent until it ends', () => {
  const slice = new TimeSlice(1)
  slice.spent()
  busy(2)
  for (let i = 0; i < 20; i++) assert.equal(slice.spent(), true)
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
  assert.ok(calls <= 4, `${calls} calls of 2 ms in a 5 ms slice`)
})
