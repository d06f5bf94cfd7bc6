// Review: the style loops must give the event loop a turn between takes, on an in-memory source.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// runContinuous does `if (taken > 0) continue` with no await, and runBlocking awaits only
// while records are in flight: with synchronous handlers (or a filter that rejects most
// records, as parallel segments will) every record finishes inside takeAndDispatch, so the loop
// takes again at once and never yields while records are buffered — up to 50,000 with the
// default buffer limits. Timers, fetch responses and heartbeats wait meanwhile: a CPU-bound
// handler of 1 ms holds the event loop ~50 s, past the 45 s session timeout (the member is
// fenced), and the commit timer does not run. Counted, not timed: how many records are handled
// before a setImmediate scheduled ahead of them gets its turn.
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
