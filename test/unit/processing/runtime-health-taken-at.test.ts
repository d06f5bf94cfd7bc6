// Health's "oldest record in flight" counts from when each record was taken: a record taken
// right after a long synchronous handler call is as old as the time since then, not since the
// take began. On an in-memory source, with a stepped clock (performance.now, the clock units are
// stamped with), so nothing is timed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'
/** What the first record's synchronous handler "takes", on the stepped clock. */
const LONG_CALL_MS = 60_000

for (const ordering of ['unordered', 'partition'] as const) {
  test(`${ordering}: a record taken after a long synchronous handler call is not reported as in flight during that call`, async () => {
    const realNow = performance.now.bind(performance)
    let skew = 0
    performance.now = () => realNow() + skew
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let secondStarted = false
    const h = createHarness({
      topics: [
        {
          name: T,
          processing: { capacity: 10, ordering, maxPollRecords: 10 },
          handler: (record) => {
            // The first call computes for a minute (the clock steps instead); the second waits.
            if (record.offset === 0) skew += LONG_CALL_MS
            else if (record.offset === 1) {
              secondStarted = true
              return gate
            }
          },
        },
      ],
    })
    h.source.append(T, 0, 2)
    try {
      await h.runtime.start()
      await h.source.assign([{ topic: T, partition: 0 }])
      await waitUntil(() => secondStarted, { message: 'record 1 runs' })
      const [p] = h.runtime.health().partitions
      assert.equal(p!.inFlight, 1, 'record 1 in flight')
      // Record 1 was taken after the minute-long call; it has been in flight for moments.
      assert.ok(
        p!.oldestInFlightMs < LONG_CALL_MS / 2,
        `record 1 reported in flight for ${p!.oldestInFlightMs} ms, counting the call before it was taken`,
      )
    } finally {
      release()
      await h.runtime.stop()
      performance.now = realNow
    }
  })
}
