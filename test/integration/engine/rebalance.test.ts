// Membership changes under load: members join one by one and leave; the server-side
// assignment converges and, with commits in the revoke hook, nothing is lost or repeated.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { deliverySummary, TestMember } from '../../support/engine-member.ts'
import { createTopic, endOffsets, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

test('three members join one by one, two leave: all delivered, 2/2/2 assignment, zero duplicates', async () => {
  const topic = await createTopic('engine-rebalance', 6)
  const groupId = uniqueName('engine-rebalance')
  let producing = true
  let produced = 0
  const producer = (async () => {
    while (producing) {
      await produceRecords(topic, 300, {
        partitions: 6,
        record: (i) => ({
          key: `k${i}`,
          value: `v${produced + i}`,
          partition: (produced + i) % 6,
          headers: {},
        }),
      })
      produced += 300
      await new Promise((r) => setTimeout(r, 50))
    }
  })()

  const options = { groupId, topics: [topic], revokeTimeoutMs: 30_000 }
  const members = [new TestMember(options)]
  await members[0]!.start()
  await waitUntil(() => members[0]!.assignedCount() === 6, { message: 'first member owns 6' })
  for (let i = 1; i < 3; i++) {
    const m = new TestMember(options)
    members.push(m)
    await m.start()
    await waitUntil(() => members.reduce((n, x) => n + x.assignedCount(), 0) === 6 && m.assignedCount() > 0, {
      timeoutMs: 30_000,
      message: `member ${i + 1} gets partitions`,
    })
  }
  await waitUntil(() => members.every((m) => m.assignedCount() === 2), {
    timeoutMs: 30_000,
    message: '2/2/2',
  })
  assert.deepEqual(
    members.map((m) => m.assignedCount()),
    [2, 2, 2],
  )

  await members[0]!.stop()
  await members[1]!.stop()
  await waitUntil(() => members[2]!.assignedCount() === 6, { timeoutMs: 30_000, message: 'survivor owns 6' })
  producing = false
  await producer

  const ends = await endOffsets(topic, 6)
  const total = [...ends.values()].reduce((a, b) => a + b, 0)
  assert.equal(total, produced)
  const all = () => members.flatMap((m) => m.processed)
  await waitUntil(() => deliverySummary(all()).distinct === total, {
    timeoutMs: 30_000,
    message: `all ${total} delivered`,
  })
  await members[2]!.stop()

  const { distinct, duplicates } = deliverySummary(all())
  assert.equal(distinct, total, 'every record delivered')
  assert.equal(duplicates, 0, 'no record delivered twice')
})
