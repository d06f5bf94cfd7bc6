// Handler-facing features on a real broker: batch handlers, manual offsets, ctx.seek and the
// statistics event.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { string } from '../../../src/processing/deserializers.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

const kafka = () => ({ bootstrap: bootstrapServers(), clientId: 'handler-features' })

test('a batch handler gets consecutive records of one partition, each exactly once, in order', async () => {
  const topic = await createTopic('batch', 2)
  await produceRecords(topic, 2000, { partitions: 2 })
  const batches: Array<{ partition: number; offsets: number[] }> = []
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(uniqueName('batch'), (g) => {
    g.topic(topic, {
      processing: { ordering: 'partition', capacity: 10 },
      batchHandler: async (records, ctx) => {
        assert.ok(records.every((r) => r.partition === ctx.partition))
        batches.push({ partition: ctx.partition, offsets: records.map((r) => r.offset) })
      },
    })
  })
  await app.start()
  try {
    await waitUntil(() => batches.reduce((n, b) => n + b.offsets.length, 0) === 2000, {
      message: '2000 in batches',
    })
  } finally {
    await app.stop()
  }
  assert.ok(batches.length < 2000, `records were batched (${batches.length} batches)`)
  for (const p of [0, 1]) {
    const offsets = batches.filter((b) => b.partition === p).flatMap((b) => b.offsets)
    assert.deepEqual(offsets, [...Array(1000).keys()], `partition ${p}: every offset once, in order`)
  }
})

test('manual offsets: only what the handler marks is committed', async () => {
  const topic = await createTopic('manual', 1)
  await produceRecords(topic, 100, { partitions: 1 })
  const group = uniqueName('manual')
  let seen = 0
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      manualOffsets: true,
      processing: { ordering: 'partition', commitIntervalMs: 50 },
      handler: async (record, ctx) => {
        seen++
        // Mark every tenth record: everything up to it counts as done.
        if (record.offset % 10 === 9 && record.offset < 60) ctx.markAsConsumed(record.offset)
      },
    })
  })
  await app.start()
  try {
    await waitUntil(() => seen === 100, { message: 'all handled' })
    await waitUntil(async () => (await committedOffsets(group, topic, 1)).get(0)?.offset === 60, {
      message: 'committed up to the last mark',
    })
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(
      (await committedOffsets(group, topic, 1)).get(0)?.offset,
      60,
      'never past the last marked record',
    )
  } finally {
    await app.stop()
  }
})

test('ctx.seek re-delivers the partition from the requested offset', async () => {
  const topic = await createTopic('seek', 1)
  await produceRecords(topic, 50, { partitions: 1 })
  const offsets: number[] = []
  let sought = false
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(uniqueName('seek'), (g) => {
    g.topic(topic, {
      deserializer: string(),
      processing: { ordering: 'partition' },
      handler: async (record, ctx) => {
        offsets.push(record.offset)
        if (record.offset === 30 && !sought) {
          sought = true
          ctx.seek(10)
        }
      },
    })
  })
  await app.start()
  try {
    await waitUntil(() => offsets.length >= 31 + 40, { message: 'the tail after the seek' })
  } finally {
    await app.stop()
  }
  const expected = [...Array(31).keys(), ...Array.from({ length: 40 }, (_, i) => 10 + i)]
  assert.deepEqual(offsets.slice(0, expected.length), expected)
})

test('statistics.emitted reports lag, buffered and in-flight per partition', async () => {
  const topic = await createTopic('stats', 2)
  await produceRecords(topic, 200, { partitions: 2 })
  const stats: Array<MultilaneEvents['statistics.emitted']> = []
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  const app = createApp({ kafka: kafka(), logger: false, statisticsIntervalMs: 100 })
  app.consumerGroup(uniqueName('stats'), (g) => {
    g.topic(topic, {
      processing: { ordering: 'unordered', capacity: 5 },
      handler: () => gate,
    })
  })
  app.on('statistics.emitted', (e) => stats.push(e))
  await app.start()
  try {
    // Lag is known once a fetch of each partition has answered (its high watermark): on a loaded
    // machine the first statistics with records in flight can come before the second one's.
    await waitUntil(
      () =>
        stats.some(
          (s) =>
            s.partitions.length === 2 &&
            s.partitions.some((p) => p.inFlight > 0) &&
            s.partitions.every((p) => p.lag > 0),
        ),
      { message: 'statistics with records in flight and the lag of both partitions' },
    )
  } finally {
    release()
    await app.stop()
  }
  const busy = stats.find(
    (s) =>
      s.partitions.length === 2 &&
      s.partitions.every((p) => p.lag > 0) &&
      s.partitions.some((p) => p.inFlight > 0),
  )!
  const inFlight = busy.partitions.reduce((n, p) => n + p.inFlight, 0)
  assert.equal(inFlight, 5, 'capacity 5 unordered: five records in flight')
  // Records wait behind the gate: the lag stays above 0 while none of them finishes.
  assert.ok(
    stats
      .filter((s) => s.partitions.some((p) => p.inFlight > 0))
      .every((s) => s.partitions.every((p) => p.lag >= 0)),
    'lag is never negative',
  )
})
