// The consumer engine on a real broker: complete, ordered consumption with commits; partition
// control; commit metadata read back through the Admin API.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { deliverySummary, drainFor, TestMember } from '../../support/engine-member.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

test('one member consumes 100,000 records over 6 partitions exactly once, in order, commits at log end', async () => {
  const topic = await createTopic('engine-100k', 6)
  await produceRecords(topic, 100_000, { partitions: 6, batchSize: 5000 })
  const groupId = uniqueName('engine-100k')
  const member = new TestMember({ groupId, topics: [topic] })
  await member.start()
  await waitUntil(() => member.processed.length >= 100_000, { timeoutMs: 60_000, message: '100,000 records' })
  await member.stop()

  const { distinct, duplicates, byPartition } = deliverySummary(member.processed)
  assert.equal(distinct, 100_000)
  assert.equal(duplicates, 0)
  const ends = await endOffsets(topic, 6)
  const committed = await committedOffsets(groupId, topic, 6)
  for (let p = 0; p < 6; p++) {
    const offsets = byPartition.get(p) ?? []
    assert.deepEqual(offsets, [...offsets.keys()], `partition ${p}: 0..n-1 in order`)
    assert.equal(committed.get(p)?.offset, ends.get(p), `partition ${p}: committed at the log end`)
  }
})

test('pause withholds a partition, resume continues it, seek repositions it', async () => {
  const topic = await createTopic('engine-control', 2)
  await produceRecords(topic, 200, { partitions: 2 })
  const consumer = new GroupConsumer({
    bootstrap: bootstrapServers(),
    clientId: 'engine-control',
    groupId: uniqueName('engine-control'),
    topics: [topic],
  })
  const seen: ConsumerRecord[] = []
  const drain = (ms: number) => drainFor(consumer, seen, ms)
  try {
    await consumer.start()
    await waitUntil(() => consumer.assignment().length === 2, { message: 'both partitions assigned' })
    const p0 = { topic, partition: 0 }
    consumer.pause([p0])
    assert.equal(consumer.isPaused(p0), true)
    await drain(1500)
    assert.equal(seen.filter((r) => r.partition === 0).length, 0, 'nothing from the paused partition')
    assert.equal(seen.filter((r) => r.partition === 1).length, 100, 'the other partition is complete')

    consumer.resume([p0])
    await drain(1500)
    assert.deepEqual(
      seen.filter((r) => r.partition === 0).map((r) => r.offset),
      [...Array(100).keys()],
      'after resume partition 0 arrives complete and in order',
    )

    seen.length = 0
    consumer.seek(p0, 90)
    assert.equal(consumer.position(p0), 90)
    await drain(1500)
    assert.deepEqual(
      seen.map((r) => r.offset),
      [90, 91, 92, 93, 94, 95, 96, 97, 98, 99],
      'seek re-delivers from the new position, only that partition',
    )
    assert.ok(seen.every((r) => r.partition === 0))
    assert.throws(() => consumer.seek({ topic, partition: 7 }, 0), /not assigned/)
  } finally {
    await consumer.close()
  }
})

test('committed offsets and metadata read back through the Admin API match what was committed', async () => {
  const topic = await createTopic('engine-commit', 3)
  await produceRecords(topic, 30, { partitions: 3 })
  const groupId = uniqueName('engine-commit')
  const consumer = new GroupConsumer({
    bootstrap: bootstrapServers(),
    clientId: 'engine-commit',
    groupId,
    topics: [topic],
  })
  const committedEvents: number[] = []
  consumer.on('committed', (e) => committedEvents.push(e.offsets.length))
  try {
    await consumer.start()
    await waitUntil(() => consumer.assignment().length === 3, { message: 'assigned' })
    const offsets = [
      { topic, partition: 0, offset: 3, metadata: 'ml1;om=r4' },
      { topic, partition: 1, offset: 7, metadata: 'x'.repeat(2000) },
      { topic, partition: 2, offset: 10, metadata: null },
    ]
    await consumer.commit(offsets)
    const read = await committedOffsets(groupId, topic, 3)
    assert.deepEqual(read.get(0), { offset: 3, metadata: 'ml1;om=r4' })
    assert.deepEqual(read.get(1), { offset: 7, metadata: 'x'.repeat(2000) })
    assert.equal(read.get(2)?.offset, 10)
    assert.deepEqual(committedEvents, [3])

    // Over the broker's offset.metadata.max.bytes (4096): a typed failure, nothing half-written.
    await assert.rejects(
      consumer.commit([{ topic, partition: 0, offset: 5, metadata: 'y'.repeat(5000) }]),
      (e: Error) => {
        assert.equal((e as Error & { code?: string }).code, 'COMMIT_FAILED')
        assert.match(e.message, /OFFSET_METADATA_TOO_LARGE/)
        return true
      },
    )
    assert.equal((await committedOffsets(groupId, topic, 3)).get(0)?.offset, 3)
  } finally {
    await consumer.close()
  }
})
