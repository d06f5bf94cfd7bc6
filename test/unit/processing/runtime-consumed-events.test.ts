// `consumer.consumed` reaches every listener attached when a record's handler finishes, also one
// attached while the handler was already running (its duration then reads 0: nobody measured
// it). On an in-memory source.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

for (const ordering of ['unordered', 'partition'] as const) {
  test(`${ordering}: a consumer.consumed listener attached while a handler runs is told when it finishes`, async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let started = 0
    const h = createHarness({
      topics: [
        {
          name: T,
          processing: { capacity: 1, ordering },
          handler: async () => {
            started++
            await gate
          },
        },
      ],
    })
    h.source.append(T, 0, 1)
    await h.runtime.start()
    try {
      await h.source.assign([{ topic: T, partition: 0 }])
      await waitUntil(() => started === 1, { message: 'the handler runs' })
      const consumed = h.collect('consumer.consumed')
      release()
      await waitUntil(() => h.committedOffset(T, 0) === 1, { message: 'offset 0 committed' })
      assert.deepEqual(
        consumed.map((e) => ({ offset: e.offset, attempts: e.attempts, durationMs: e.durationMs })),
        [{ offset: 0, attempts: 1, durationMs: 0 }],
      )
    } finally {
      await h.runtime.stop()
    }
  })
}
