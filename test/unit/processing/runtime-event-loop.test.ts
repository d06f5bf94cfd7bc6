// The runtime gives the event loop a turn between takes, and within a take once a few ms of
// synchronous work are spent: between synchronous handler calls, record filter (parallel
// segments) calls and virtual-partitions partitioner calls, timers run. On an in-memory source.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ConsumedRecord } from '../../../src/processing/record.ts'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness, type HarnessOptions } from '../../support/runtime-harness.ts'

const T = 't'

// Counted, not timed: how many records are handled before a setImmediate scheduled ahead of
// them gets its turn.
for (const style of ['continuous', 'blocking'] as const) {
  test(`${style} style with synchronous handlers yields to the event loop between takes`, async () => {
    let handled = 0
    const h = createHarness({
      topics: [
        {
          name: T,
          processing: { style, capacity: 10, ordering: 'unordered', maxPollRecords: 100 },
          handler: () => {
            handled++
          },
        },
      ],
    })
    h.source.append(T, 0, 5000)
    await h.runtime.start()
    const handledAtImmediate = new Promise<number>((resolve) => setImmediate(() => resolve(handled)))
    await h.source.assign([{ topic: T, partition: 0 }])
    try {
      await waitUntil(() => handled === 5000, { message: 'all handled' })
      const before = await handledAtImmediate
      assert.ok(before < 1000, `records handled before the event loop got a turn: ${before} of 5000`)
    } finally {
      await h.runtime.stop()
    }
  })
}

/** Keeps the CPU busy for `ms` (a CPU-bound user call). */
function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // spin
  }
}

const RECORDS = 200
const CALL_MS = 2
/**
 * User calls of 2 ms and a slice of a few ms: a timer runs after every 3 or 4 calls. The bound
 * is generous (a busy call measures wall time, so a loaded machine makes no more calls per
 * slice); without time slicing a whole take (200 records here) runs between two timer turns.
 */
const MAX_CALLS_BETWEEN_TIMERS = 12

type Work = 'sync handler' | 'async CPU-bound handler' | 'record filter' | 'virtual-partitions partitioner'

/**
 * Runs RECORDS records through a runtime whose `work` is a 2 ms CPU-bound user call, with a
 * 1 ms interval timer ticking; returns the longest run of user calls with no tick between them.
 */
async function longestRunWithoutTimer(style: 'blocking' | 'continuous', work: Work): Promise<number> {
  let ticks = 0
  let calls = 0
  let sameTick = 0
  let longest = 0
  let lastTick = -1
  const userCall = (): void => {
    busy(CALL_MS)
    calls++
    sameTick = ticks === lastTick ? sameTick + 1 : 1
    lastTick = ticks
    longest = Math.max(longest, sameTick)
  }
  let handled = 0
  const ordering = work === 'virtual-partitions partitioner' ? 'key' : 'partition'
  const options: HarnessOptions = {
    topics: [
      {
        name: T,
        processing: { style, capacity: 50, ordering, maxPollRecords: RECORDS },
        handler:
          work === 'sync handler'
            ? () => {
                userCall()
                handled++
              }
            : work === 'async CPU-bound handler'
              ? async () => {
                  userCall()
                  handled++
                }
              : () => {
                  handled++
                },
        virtualPartitions: {
          partitioner: (r: ConsumedRecord<unknown>) => {
            if (work === 'virtual-partitions partitioner') userCall()
            return r.keyString
          },
          reducer: (value: unknown, max: number) => Number(String(value).slice(1)) % max,
          maxPartitions: 16,
        },
      },
    ],
    ...(work === 'record filter'
      ? {
          filter: () => {
            userCall()
            return true
          },
        }
      : {}),
  }
  const h = createHarness(options)
  h.source.append(T, 0, RECORDS)
  const ticker = setInterval(() => ticks++, 1)
  try {
    await h.runtime.start()
    await h.source.assign([{ topic: T, partition: 0 }])
    await waitUntil(() => handled === RECORDS, { timeoutMs: 60_000, message: `${RECORDS} handled` })
  } finally {
    clearInterval(ticker)
    await h.runtime.stop()
  }
  assert.ok(calls >= RECORDS, `every record made its user call (${calls})`)
  return longest
}

for (const style of ['continuous', 'blocking'] as const) {
  for (const work of [
    'sync handler',
    'async CPU-bound handler',
    'record filter',
    'virtual-partitions partitioner',
  ] as const) {
    test(`${style} style: a timer runs between ${work} calls once a time slice is spent`, async () => {
      const longest = await longestRunWithoutTimer(style, work)
      assert.ok(
        longest <= MAX_CALLS_BETWEEN_TIMERS,
        `${work} calls of ${CALL_MS} ms in a row without a timer turn: ${longest} (at most ${MAX_CALLS_BETWEEN_TIMERS})`,
      )
    })
  }
}
