// On the Kafka 4.x broker under test (group.version 1), groupProtocol 'auto' (the default)
// chooses the KIP-848 consumer protocol, says why in its group_protocol event, and consumes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TestMember } from '../../support/engine-member.ts'
import { createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

test("'auto' chooses the KIP-848 consumer protocol on a 4.x broker", async () => {
  const topic = await createTopic('auto-protocol', 2)
  await produceRecords(topic, 20, { partitions: 2 })
  const member = new TestMember({ groupId: uniqueName('auto-protocol'), topics: [topic] })
  const chosen: Array<{ protocol: string; requested: string; reason: string }> = []
  member.consumer.on('group_protocol', (e) => chosen.push(e))
  await member.start()
  try {
    assert.equal(member.consumer.groupProtocol, 'consumer')
    assert.equal(chosen.length, 1)
    assert.equal(chosen[0]?.requested, 'auto')
    assert.match(chosen[0]?.reason ?? '', /group\.version [1-9].*ConsumerGroupHeartbeat up to v[1-9]/)
    await waitUntil(() => member.processed.length >= 20, { timeoutMs: 30_000, message: '20 read' })
  } finally {
    await member.stop()
  }
})
