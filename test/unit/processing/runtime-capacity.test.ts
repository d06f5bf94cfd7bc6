// Capacity is per topic, on an in-memory source. docs/concepts.md: "`capacity` bounds the
// handlers of a topic running at once in a member"; docs/processing.md: "capacity, ordering and
// the rest are per topic".
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

// The runtime schedules all topics of the member together, and with `key` (or `partition`)
// ordering a topic takes up to 4 × capacity records into different lanes. Another topic's
// larger capacity must not let those all start at once: a topic set to capacity 1 (say, a
// downstream that allows one call at a time) runs one handler at a time.
test('a topic with capacity 1 never runs two handlers at once beside a topic with a larger capacity', async () => {
  let running = 0
  let maxRunning = 0
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const h = createHarness({
    topics: [
      {
        name: 'one-at-a-time',
        processing: { capacity: 1, ordering: 'key' },
        handler: async () => {
          running++
          maxRunning = Math.max(maxRunning, running)
          await gate
          running--
        },
      },
      { name: 'wide', processing: { capacity: 8, ordering: 'key' }, handler: () => {} },
    ],
  })
  // Four keys: four lanes.
  h.source.append('one-at-a-time', 0, 8, 4)
  await h.runtime.start()
  await h.source.assign([
    { topic: 'one-at-a-time', partition: 0 },
    { topic: 'wide', partition: 0 },
  ])
  try {
    await waitUntil(() => running >= 1, { message: 'a handler started' })
    // Takes and starts are synchronous: give the loop a few turns to take and start more.
    await sleep(100)
    assert.equal(maxRunning, 1, `handlers of the capacity-1 topic running at once: ${maxRunning}`)
  } finally {
    release()
    await h.runtime.stop()
  }
})
