// Positions the engine moves on its own, on a real broker: an offset out of range is reset by
// autoOffsetReset and the runtime starts the partition over instead of crashing; transaction
// markers at the end of a partition are committed past (or the lag never reaches 0).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Producer } from '@platformatic/kafka'
import { createApp } from '../../../src/app/app.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import {
  bootstrapServers,
  committedOffsets,
  createAdmin,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

function kafka() {
  return { bootstrap: bootstrapServers(), clientId: 'resets' }
}

test('ctx.seek past the end of a partition: OFFSET_OUT_OF_RANGE resets it to earliest, processing goes on', async () => {
  const topic = await createTopic('seek-past-end', 1)
  await produceRecords(topic, 10, { partitions: 1 })
  const group = uniqueName('seek-past-end')
  const handled: number[] = []
  const resets: Array<MultilaneEvents['partitions.position_reset']> = []
  const fatal: unknown[] = []
  let sought = false
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { commitIntervalMs: 50 },
      handler: (record, ctx) => {
        handled.push(record.offset)
        if (record.offset === 5 && !sought) {
          sought = true
          ctx.seek(1000)
        }
      },
    })
  })
  app.on('partitions.position_reset', (e) => resets.push(e))
  app.on('error.occurred', (e) => e.fatal && fatal.push(e.error))
  await app.start()
  try {
    await waitUntil(() => handled.length === 16, { message: '0-5, then 0-9 after the reset' })
    await waitUntil(async () => (await committedOffsets(group, topic, 1)).get(0)?.offset === 10, {
      message: 'committed at the end',
    })
  } finally {
    await app.stop()
  }
  assert.deepEqual(handled, [0, 1, 2, 3, 4, 5, ...Array(10).keys()])
  assert.deepEqual(
    resets.map((r) => [r.from, r.to, r.reason, r.policy]),
    [[1000, 0, 'offset_reset', 'earliest']],
  )
  assert.deepEqual(fatal, [])
})

test('a committed offset past the log end (set by an admin tool): the app starts, resets and processes', async () => {
  const topic = await createTopic('commit-past-end', 1)
  await produceRecords(topic, 10, { partitions: 1 })
  const group = uniqueName('commit-past-end')
  const admin = createAdmin()
  try {
    await admin.alterConsumerGroupOffsets({
      groupId: group,
      topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: 1000n }] }],
    })
  } finally {
    await admin.close()
  }
  const handled: number[] = []
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, { processing: { commitIntervalMs: 50 }, handler: (r) => void handled.push(r.offset) })
  })
  await app.start()
  try {
    await waitUntil(async () => (await committedOffsets(group, topic, 1)).get(0)?.offset === 10, {
      message: 'reset to 0, processed, committed at the end',
    })
  } finally {
    await app.stop()
  }
  assert.deepEqual(handled, [...Array(10).keys()])
})

test('transaction markers and aborted records at the end of a partition are committed past (lag 0)', async () => {
  const topic = await createTopic('transactional', 1)
  const producer = new Producer({
    clientId: 'tx-producer',
    bootstrapBrokers: bootstrapServers(),
    idempotent: true,
    transactionalId: uniqueName('tx'),
  })
  try {
    const committed = await producer.beginTransaction()
    await committed.send({
      messages: Array.from({ length: 5 }, (_, i) => ({ topic, partition: 0, value: Buffer.from(`c${i}`) })),
    })
    await committed.commit()
    const aborted = await producer.beginTransaction()
    await aborted.send({
      messages: Array.from({ length: 3 }, (_, i) => ({ topic, partition: 0, value: Buffer.from(`a${i}`) })),
    })
    await aborted.abort()
  } finally {
    await producer.close()
  }
  // 5 records, a commit marker, 3 aborted records and an abort marker.
  const end = (await endOffsets(topic, 1)).get(0)!
  assert.equal(end, 10)
  for (const isolationLevel of ['read_committed', 'read_uncommitted'] as const) {
    const group = uniqueName(`tx-${isolationLevel}`)
    const handled: string[] = []
    const app = createApp({ kafka: kafka(), logger: false })
    app.consumerGroup(group, (g) => {
      g.options({ isolationLevel })
      g.topic(topic, {
        processing: { commitIntervalMs: 50 },
        handler: (r) => void handled.push(r.value!.toString()),
      })
    })
    await app.start()
    try {
      await waitUntil(async () => (await committedOffsets(group, topic, 1)).get(0)?.offset === end, {
        message: `${isolationLevel}: committed at the log end, past the trailing markers`,
      })
    } finally {
      await app.stop()
    }
    const expected = [
      'c0',
      'c1',
      'c2',
      'c3',
      'c4',
      ...(isolationLevel === 'read_uncommitted' ? ['a0', 'a1', 'a2'] : []),
    ]
    assert.deepEqual(handled, expected, isolationLevel)
  }
})
