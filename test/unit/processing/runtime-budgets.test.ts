// The runtime's budgets on an in-memory source: one stuck or failing record must not starve
// other partitions or lanes, and no partition may pile up state without bound.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { partitionKey } from '../../../src/engine/types.ts'
import { OFFSET_WINDOW_LIMIT } from '../../../src/processing/consumer-group/offset-commit-progress.ts'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// The intake budget is shared fairly: the first partition in the rotation must not take it all
// with records queued behind its retrying one, or partitions 1–3 get nothing.
test('a record retrying forever in partition 0 does not starve partitions 1-3 (partition ordering)', async () => {
  const handled = new Map<number, number>()
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 10, ordering: 'partition' },
        retries: { maxRetries: 3, backoff: { initialMs: 50, maxMs: 200, exponential: true } },
        handler: (record) => {
          if (record.partition === 0 && record.offset === 0) throw new Error('always fails')
          handled.set(record.partition, (handled.get(record.partition) ?? 0) + 1)
        },
      },
    ],
  })
  for (let p = 0; p < 4; p++) h.source.append(T, p, 5000)
  await h.runtime.start()
  await h.source.assign([0, 1, 2, 3].map((partition) => ({ topic: T, partition })))
  try {
    await waitUntil(() => [1, 2, 3].every((p) => handled.get(p) === 5000), {
      timeoutMs: 30_000,
      message: `partitions 1-3 handled 5000 each (got ${JSON.stringify([...handled])})`,
    })
    assert.equal(handled.get(0) ?? 0, 0, 'partition 0 waits behind its failing record')
    // Partition 0 holds a bounded number of records while it waits (10 × capacity × 4).
    assert.ok((h.source.handed.get(partitionKey(T, 0)) ?? 0) <= 400)
  } finally {
    await h.runtime.stop()
  }
  assert.equal(h.committedOffset(T, 0), 0)
  for (const p of [1, 2, 3]) assert.equal(h.committedOffset(T, p), 5000)
})

test('a stuck lane does not starve the other lanes of its partition or other partitions (key ordering)', async () => {
  const handled = new Set<string>()
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 8, ordering: 'key' },
        virtualPartitions: {
          partitioner: (r) => r.keyString,
          reducer: (key) => Number(String(key).slice(1)) % 4,
          maxPartitions: 4,
        },
        handler: (record) => {
          if (record.partition === 0 && record.keyString === 'k0') throw new Error('lane 0 always fails')
          handled.add(`${record.partition}:${record.offset}`)
        },
      },
    ],
  })
  // 8 keys: lane 0 gets k0 and k4; k0 fails in partition 0 only (its first record).
  h.source.append(T, 0, 2000, 8)
  h.source.append(T, 1, 2000, 8)
  await h.runtime.start()
  await h.source.assign([0, 1].map((partition) => ({ topic: T, partition })))
  const ofPartition = (p: number) => [...handled].filter((id) => id.startsWith(`${p}:`)).length
  try {
    await waitUntil(() => ofPartition(1) === 2000, { timeoutMs: 30_000, message: 'partition 1 handled' })
    // Partition 0's other lanes go on until its parked records (lane 0, a quarter of them)
    // reach 10 × capacity × 4 = 320: more than 900 of its other records get through.
    await waitUntil(() => ofPartition(0) > 900, {
      timeoutMs: 30_000,
      message: 'partition 0 lanes 1-3 went on',
    })
  } finally {
    await h.runtime.stop()
  }
  assert.equal(h.committedOffset(T, 0), 0)
  assert.equal(h.committedOffset(T, 1), 2000)
})

// With unordered processing one stuck record must not let the tracker grow without bound while
// later records keep finishing: intake stops at the window limit.
test('a stuck record in unordered processing holds intake at the window limit, with an event', async () => {
  const windows = []
  let handled = 0
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 50, ordering: 'unordered' },
        retries: { maxRetries: 3, backoff: { initialMs: 100_000, maxMs: 100_000, exponential: false } },
        handler: (record) => {
          if (record.offset === 0) throw new Error('stuck')
          handled++
        },
      },
    ],
  })
  h.events.on('offsets.window_limit_reached', (e) => windows.push(e))
  h.source.append(T, 0, OFFSET_WINDOW_LIMIT + 20_000)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => windows.length === 1, { timeoutMs: 60_000, message: 'the window limit event' })
    const handedAtLimit = h.source.handed.get(partitionKey(T, 0))!
    assert.ok(handedAtLimit <= OFFSET_WINDOW_LIMIT, `taken ${handedAtLimit}`)
    await waitUntil(() => handled === handedAtLimit - 1, {
      message: 'all taken records but the stuck one handled',
    })
    await new Promise((r) => setTimeout(r, 200))
    assert.equal(h.source.handed.get(partitionKey(T, 0)), handedAtLimit, 'nothing more was taken')
  } finally {
    await h.runtime.stop()
  }
  assert.equal(h.committedOffset(T, 0), 0)
})

// With manual offsets, records finished but never marked are no longer "in flight" yet stay
// pending in the tracker: they count against the window limit, or intake would be unbounded.
test('manual offsets that are never marked hold intake at the window limit', async () => {
  const windows = []
  const h = createHarness({
    topics: [
      {
        name: T,
        manualOffsets: true,
        processing: { capacity: 100, ordering: 'unordered' },
        handler: () => {},
      },
    ],
  })
  h.events.on('offsets.window_limit_reached', (e) => windows.push(e))
  h.source.append(T, 0, OFFSET_WINDOW_LIMIT + 20_000)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => windows.length === 1, { timeoutMs: 60_000, message: 'the window limit event' })
    await new Promise((r) => setTimeout(r, 200))
    assert.ok(h.source.handed.get(partitionKey(T, 0))! <= OFFSET_WINDOW_LIMIT)
  } finally {
    await h.runtime.stop()
  }
})

test('records parked behind a retry do not hold the budget, and are bounded per partition', async () => {
  // Capacity 2, unordered: a failing record waits parked, the others keep both slots busy.
  let handled = 0
  let failures = 0
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 2, ordering: 'unordered' },
        retries: { maxRetries: 10, backoff: { initialMs: 300, maxMs: 300, exponential: false } },
        handler: (record) => {
          if (record.offset === 3 && failures < 1) {
            failures++
            throw new Error('once')
          }
          handled++
        },
      },
    ],
  })
  h.source.append(T, 0, 1000)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => handled === 1000, { message: 'everything handled' })
  } finally {
    await h.runtime.stop()
  }
  assert.equal(h.committedOffset(T, 0), 1000)
})
