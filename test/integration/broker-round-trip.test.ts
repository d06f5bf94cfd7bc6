// The local broker is a working Kafka: 10,000 records produced over 3 partitions with
// @platformatic/kafka's Producer come back complete, in order per partition, unchanged.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTopic, produceRecords } from '../support/kafka.ts'
import { readRecords } from '../support/read-topic.ts'

test('10,000 records over 3 partitions round-trip: count, per-partition order, content', async () => {
  const topic = await createTopic('round-trip', 3)
  const sent = await produceRecords(topic, 10_000, { partitions: 3 })
  const received = await readRecords(topic, sent.length)

  assert.equal(received.length, 10_000)
  for (const partition of [0, 1, 2]) {
    const expected = sent.filter((r) => r.partition === partition)
    const got = received.filter((m) => m.partition === partition)
    assert.equal(got.length, expected.length, `partition ${partition} count`)
    got.forEach((m, i) => {
      assert.equal(m.offset, i, `partition ${partition}: offsets contiguous and in order`)
      assert.equal(m.key, expected[i]!.key)
      assert.equal(m.value, expected[i]!.value)
      assert.deepEqual(m.headers, expected[i]!.headers)
    })
  }
})
