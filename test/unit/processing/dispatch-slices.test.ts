// A take whose dispatch spans several time slices: a revocation, an offset reset or a stop
// that lands between two slices leaves the rest of the take undispatched. Nothing is then
// committed past a record that was not handled, and every record is handled once the partition
// is assigned again from the committed offset. On an in-memory source; counted, not timed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'
const RECORDS = 300

function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // spin: a CPU-bound filter call
  }
}

for (const style of ['continuous', 'blocking'] as const) {
  for (const ordering of ['partition', 'unordered', 'key'] as const) {
    test(`${style}, ${ordering}: a revocation between slices of a take commits no record past an unhandled one, and nothing is lost`, async () => {
      const handled = new Map<number, number>()
      let filterCalls = 0
      let revoked: Promise<void> | undefined
      const h = createHarness({
        topics: [
          {
            name: T,
            processing: { style, capacity: 1000, ordering, maxPollRecords: 500, commitIntervalMs: 10 },
            handler: (record) => {
              handled.set(record.offset, (handled.get(record.offset) ?? 0) + 1)
            },
          },
        ],
        // A 1 ms filter call: the take yields every few records.
        filter: () => {
          busy(1)
          if (++filterCalls === 20)
            setImmediate(() => {
              revoked = h.source.revoke([{ topic: T, partition: 0 }], 'revoked')
            })
          return true
        },
      })
      h.source.append(T, 0, RECORDS)
      await h.runtime.start()
      try {
        await h.source.assign([{ topic: T, partition: 0 }])
        await waitUntil(() => revoked !== undefined, { message: 'the revocation is under way' })
        await revoked
        const committed = h.committedOffset(T, 0) ?? 0
        assert.ok(committed < RECORDS, `the take was cut by the revocation (committed ${committed})`)
        for (let o = 0; o < committed; o++)
          assert.ok(handled.has(o), `offset ${o} committed (committed ${committed}) but never handled`)
        // The next owner (here: us again) resumes at the committed offset.
        await h.source.assign([{ topic: T, partition: 0, position: committed }])
        await waitUntil(() => handled.size === RECORDS, {
          message: `every record handled (${handled.size} of ${RECORDS})`,
        })
        await waitUntil(() => h.committedOffset(T, 0) === RECORDS, { message: 'all committed' })
      } finally {
        await h.runtime.stop()
      }
      assert.deepEqual(h.fatal, [])
    })
  }

  test(`${style}: stop() while a take's dispatch waits between slices commits nothing past an unhandled record`, async () => {
    const handled = new Set<number>()
    let filterCalls = 0
    let stopped: Promise<void> | undefined
    const h = createHarness({
      topics: [
        {
          name: T,
          processing: {
            style,
            capacity: 1000,
            ordering: 'partition',
            maxPollRecords: 500,
            commitIntervalMs: 10,
          },
          handler: (record) => {
            handled.add(record.offset)
          },
        },
      ],
      filter: () => {
        busy(1)
        if (++filterCalls === 20) setImmediate(() => (stopped = h.runtime.stop()))
        return true
      },
    })
    h.source.append(T, 0, RECORDS)
    await h.runtime.start()
    await h.source.assign([{ topic: T, partition: 0 }])
    await waitUntil(() => stopped !== undefined, { message: 'the stop is under way' })
    await stopped
    const committed = h.committedOffset(T, 0) ?? 0
    assert.ok(committed < RECORDS, `the take was cut by the stop (committed ${committed})`)
    for (let o = 0; o < committed; o++) assert.ok(handled.has(o), `offset ${o} committed but never handled`)
    assert.deepEqual(h.fatal, [])
  })
}
