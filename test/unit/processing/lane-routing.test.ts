// Lanes route as segments do: a virtual-partitions partitioner that returns a Promise, or (with
// the default reducer, which hashes the value's text) a plain object, is a routing error —
// reported as error.occurred, the record to lane 0 — never hashed as "[object Promise]" or
// "[object Object]" (one lane for every record, silently). A custom reducer may read objects.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ConsumedRecord } from '../../../src/processing/record.ts'
import { defaultLaneReducer } from '../../../src/processing/routing/reducers.ts'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

/**
 * Three records in partition 0, 4 lanes: offset 0 routes by "k2" (lane 0 under the default
 * reducer) and blocks there, offset 2 by "k0" (lane 3); offset 1's key is what `badKey` makes.
 * Returns what was handled while offset 0 blocked, and the error events.
 */
async function run(
  badKey: (record: ConsumedRecord<unknown>) => unknown,
  reducer: (value: unknown, count: number) => number,
) {
  const handled: number[] = []
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 4, ordering: 'key' },
        virtualPartitions: {
          partitioner: (r) => (r.offset === 0 ? 'k2' : r.offset === 1 ? badKey(r) : 'k0'),
          reducer,
          maxPartitions: 4,
        },
        handler: async (record) => {
          if (record.offset === 0) await gate
          handled.push(record.offset)
        },
      },
    ],
  })
  const errors = h.collect('error.occurred')
  h.source.append(T, 0, 3)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  let whileBlocked: number[] = []
  try {
    // Offset 2 (lane 3) is dispatched after offset 1: once it is handled, offset 1 sits in its lane.
    await waitUntil(() => handled.includes(2), { timeoutMs: 30_000, message: 'offset 2 handled on lane 3' })
    whileBlocked = [...handled]
    release()
    await waitUntil(() => handled.length === 3, { timeoutMs: 30_000, message: 'all handled' })
  } finally {
    release()
    await h.runtime.stop()
  }
  return { whileBlocked, errors }
}

for (const [what, badKey, text] of [
  ['a Promise', () => Promise.resolve('k1'), /returned a Promise/],
  ['a plain object', () => ({ id: 1 }), /returned an object \(\[object Object\]\)/],
] as const) {
  test(`a partitioner that returns ${what} is a routing error: reported, the record to lane 0`, async () => {
    assert.equal(defaultLaneReducer('k2', 4), 0)
    assert.equal(defaultLaneReducer('k0', 4), 3)
    const { whileBlocked, errors } = await run(badKey, defaultLaneReducer)
    assert.deepEqual(whileBlocked, [2], 'offset 1 waited in lane 0 behind offset 0')
    assert.equal(errors.length, 1, `one routing error (got ${errors.map((e) => e.type)})`)
    const e = errors[0]!
    assert.equal(e.type, 'virtual_partitions.partitioner.error')
    assert.ok(e.error instanceof TypeError)
    assert.match(e.error.message, text)
    assert.equal(e.consumerGroup, 'g')
    assert.equal(e.topic, T)
    assert.equal(e.partition, 0)
    assert.equal(e.offset, 1)
  })
}

test('an object is passed to a custom reducer, which may read it', async () => {
  const seen: unknown[] = []
  const { whileBlocked, errors } = await run(
    () => ({ id: 1 }),
    (value) => {
      seen.push(value)
      return value === 'k2' ? 0 : 1
    },
  )
  assert.deepEqual(errors, [])
  assert.deepEqual(seen, ['k2', { id: 1 }, 'k0'])
  // Its lane is the reducer's choice (1), not lane 0: handled while offset 0 blocks.
  assert.deepEqual(whileBlocked, [1, 2])
})
