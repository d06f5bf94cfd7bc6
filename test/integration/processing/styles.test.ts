// Both processing styles process everything and commit at the log end; key ordering keeps
// every key's records in sequence while lanes run in parallel.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createApp } from '../../../src/app/app.ts'
import { json, string } from '../../../src/processing/deserializers.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

for (const style of ['blocking', 'continuous'] as const) {
  test(`${style} style processes 50,000 records: none lost, commits at the log end`, async () => {
    const topic = await createTopic(`styles-${style}`, 4)
    await produceRecords(topic, 50_000, { partitions: 4, batchSize: 5000 })
    const group = uniqueName(`styles-${style}`)
    const seen = new Set<string>()
    const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'styles' }, logger: false })
    app.consumerGroup(group, (g) => {
      g.topic(topic, {
        deserializer: string(),
        processing: {
          style,
          capacity: 200,
          ordering: 'unordered',
          maxPollRecords: 1000,
          commitIntervalMs: 200,
        },
        handler: async (record) => {
          seen.add(`${record.partition}:${record.offset}`)
          assert.equal(record.payload, `v${Number(record.headers.get('seq'))}`)
        },
      })
    })
    await app.start()
    try {
      await waitUntil(() => seen.size === 50_000, { timeoutMs: 90_000, message: '50,000 processed' })
    } finally {
      await app.stop()
    }
    const ends = await endOffsets(topic, 4)
    const committed = await committedOffsets(group, topic, 4)
    for (let p = 0; p < 4; p++)
      assert.equal(committed.get(p)?.offset, ends.get(p), `partition ${p} committed at the end`)
  })
}

test('key ordering, capacity 100, 1,000 keys: each key handled in strictly increasing sequence', async () => {
  const topic = await createTopic('key-order', 3)
  const perKey = 20
  await produceRecords(topic, 1000 * perKey, {
    partitions: 3,
    batchSize: 2000,
    record: (i) => {
      const key = `user-${i % 1000}`
      const seq = Math.floor(i / 1000)
      // A key always goes to one partition, as a keyed producer would do.
      return { key, value: JSON.stringify({ key, seq }), partition: (i % 1000) % 3, headers: {} }
    },
  })
  const lastSeq = new Map<string, number>()
  const violations: string[] = []
  let running = 0
  let maxRunning = 0
  let handled = 0
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'key-order' }, logger: false })
  app.consumerGroup(uniqueName('key-order'), (g) => {
    g.topic(topic, {
      deserializer: json<{ key: string; seq: number }>(),
      processing: { style: 'continuous', capacity: 100, ordering: 'key' },
      virtualPartitions: { maxPartitions: 64 },
      handler: async (record) => {
        running++
        maxRunning = Math.max(maxRunning, running)
        const { key, seq } = record.payload!
        const previous = lastSeq.get(key) ?? -1
        if (seq !== previous + 1) violations.push(`${key}: ${previous} then ${seq}`)
        lastSeq.set(key, seq)
        await sleep(Math.random() * 3)
        running--
        handled++
      },
    })
  })
  await app.start()
  try {
    await waitUntil(() => handled === 1000 * perKey, {
      timeoutMs: 90_000,
      message: 'all keyed records handled',
    })
  } finally {
    await app.stop()
  }
  assert.deepEqual(violations, [], 'no key saw its records out of sequence')
  assert.equal(lastSeq.size, 1000)
  assert.ok([...lastSeq.values()].every((s) => s === perKey - 1))
  assert.ok(maxRunning > 10, `lanes ran in parallel (max ${maxRunning} at once)`)
  assert.ok(maxRunning <= 100, `never more than capacity (${maxRunning})`)
})
