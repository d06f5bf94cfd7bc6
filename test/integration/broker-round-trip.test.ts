// The local broker is a working Kafka: 10,000 records produced over 3 partitions with
// @platformatic/kafka's Producer come back complete, in order per partition, unchanged.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Consumer, MessagesStreamModes, type Message } from '@platformatic/kafka'
import { bootstrapServers, createTopic, produceRecords, uniqueName } from '../support/kafka.ts'

test('10,000 records over 3 partitions round-trip: count, per-partition order, content', async () => {
  const topic = await createTopic('round-trip', 3)
  const sent = await produceRecords(topic, 10_000, { partitions: 3 })

  const consumer = new Consumer({
    clientId: 'round-trip-reader',
    groupId: uniqueName('round-trip'),
    bootstrapBrokers: bootstrapServers(),
    maxWaitTime: 200,
  })
  const received: Message[] = []
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false })
    for await (const message of stream) {
      received.push(message)
      if (received.length === sent.length) break
    }
    await stream.close()
  } finally {
    await consumer.close(true)
  }

  assert.equal(received.length, 10_000)
  for (const partition of [0, 1, 2]) {
    const expected = sent.filter((r) => r.partition === partition)
    const got = received.filter((m) => m.partition === partition)
    assert.equal(got.length, expected.length, `partition ${partition} count`)
    got.forEach((m, i) => {
      assert.equal(m.offset, BigInt(i), `partition ${partition} offsets are contiguous and ordered`)
      assert.equal(m.key.toString(), expected[i]!.key)
      assert.equal(m.value.toString(), expected[i]!.value)
      assert.equal(headerValue(m, 'seq'), expected[i]!.headers.seq)
    })
  }
})

function headerValue(message: Message, name: string): string | undefined {
  for (const [k, v] of message.headers) if (k.toString() === name) return v.toString()
  return undefined
}
