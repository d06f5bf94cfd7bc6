// The fetcher's global buffer limits against a real broker: partitions the taker refuses (its
// intake limit returns 0) must not stop the other partitions from being fetched.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { partitionKey } from '../../../src/engine/types.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

// The fetcher stops fetching every partition while its total buffer is at `maxRecords` /
// `maxBytes`, so refused partitions must not fill that global budget. The runtime refuses a
// partition for reasons that last: records parked behind a retry, the offset window or map
// limit, a pending seek, a topic whose budget is full while another topic of the member has
// room; `ctx.pause()` keeps the buffer too. With the defaults (10,000 records per partition,
// 50,000 in all) five such partitions would otherwise starve the member: a healthy partition
// (or a second topic) would get nothing.
test('partitions the taker refuses do not keep the other partitions from being fetched', async () => {
  const topic = await createTopic('refused-buffers', 3)
  // Partitions 0 and 1 have a backlog; partition 2 is empty for now.
  await produceRecords(topic, 400, {
    partitions: 2,
    record: (i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2, headers: {} }),
  })
  const consumer = new GroupConsumer({
    bootstrap: bootstrapServers(),
    clientId: 'refused-buffers',
    groupId: uniqueName('refused-buffers'),
    topics: [topic],
    buffer: { maxRecordsPerPartition: 100, maxRecords: 200 },
  })
  const refused = new Set([partitionKey(topic, 0), partitionKey(topic, 1)])
  // The taker cannot take partitions 0 and 1 (say, each waits behind a record that retries).
  const limit = (key: string, wanted: number) => (refused.has(key) ? 0 : wanted)
  const fromPartition2: ConsumerRecord[] = []
  try {
    await consumer.start()
    await waitUntil(() => consumer.assignment().length === 3, { message: 'three partitions assigned' })
    await waitUntil(
      () => {
        for (const batch of consumer.takeRecords(100, limit)) fromPartition2.push(...batch.records)
        return consumer.buffered().records >= 200
      },
      { message: 'the refused partitions filled their buffers' },
    )
    await produceRecords(topic, 10, {
      partitions: 3,
      record: (i) => ({ key: `p2-${i}`, value: `v${i}`, partition: 2, headers: {} }),
    })
    const deadline = Date.now() + 10_000
    while (fromPartition2.length < 10 && Date.now() < deadline) {
      for (const batch of consumer.takeRecords(100, limit)) fromPartition2.push(...batch.records)
      await sleep(50)
    }
    assert.equal(
      fromPartition2.length,
      10,
      `records of partition 2 taken within 10 s (buffered: ${JSON.stringify(consumer.buffered())})`,
    )
  } finally {
    await consumer.close()
  }
})
