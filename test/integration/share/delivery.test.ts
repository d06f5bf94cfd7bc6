// Share-group delivery against the real broker: many members on one partition, release,
// reject, and nothing lost or accepted twice.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { createShareMember, ShareWorker, shareGroup, waitForAssignment } from '../../support/share.ts'

describe('share group delivery', () => {
  it('3 members on a 1-partition topic all receive work; 20,000 records are each accepted exactly once', async () => {
    const topic = await createTopic('share-three', 1)
    const groupId = await shareGroup('share-three')
    const members = [0, 1, 2].map(() => createShareMember({ groupId, topics: [topic], maxRecords: 200 }))
    await Promise.all(members.map((m) => m.consumer.start()))
    await waitForAssignment(
      members.map((m) => m.consumer),
      topic,
      1,
    )
    // A little work per record, so no member drains the partition alone.
    const workers = members.map(
      (m) => new ShareWorker(m.consumer, () => sleep(1).then(() => 'accept' as const)),
    )
    const total = 20_000
    await produceRecords(topic, total, { partitions: 1 })
    await waitUntil(() => workers.reduce((n, w) => n + w.applied('accept').length, 0) >= total, {
      timeoutMs: 120_000,
      message: `${total} accepts`,
    })
    await Promise.all(workers.map((w) => w.stop()))

    const accepted = workers.flatMap((w) => w.applied('accept'))
    assert.equal(accepted.length, total, 'accepted exactly once in total')
    assert.equal(new Set(accepted).size, total, 'no offset accepted twice')
    assert.deepEqual(
      [...new Set(accepted)].sort((a, b) => a - b),
      [...Array(total).keys()],
      'every offset accepted',
    )
    for (const [i, w] of workers.entries()) {
      assert.ok(w.applied('accept').length > 0, `member ${i} received work`)
      assert.ok(
        w.results.every((r) => r.outcome === 'ok'),
        `member ${i}: every acknowledgement applied`,
      )
    }
    const deliveries = workers.flatMap((w) => w.deliveries)
    assert.equal(deliveries.length, total, 'no record delivered twice in normal operation')
    assert.ok(deliveries.every((r) => r.deliveryCount === 1))
  })

  it('a released record is delivered again with a higher delivery count', async () => {
    const topic = await createTopic('share-release', 1)
    const groupId = await shareGroup('share-release')
    const { consumer } = createShareMember({ groupId, topics: [topic] })
    await consumer.start()
    const released = new Set([3, 7])
    const worker = new ShareWorker(consumer, (r) =>
      released.has(r.offset) && r.deliveryCount === 1 ? 'release' : 'accept',
    )
    await produceRecords(topic, 10, { partitions: 1 })
    await waitUntil(() => worker.applied('accept').length === 10, { message: '10 accepts' })
    await worker.stop()

    assert.deepEqual(worker.applied('release').sort(), [3, 7])
    const deliveriesOf = (offset: number) =>
      worker.deliveries.filter((r) => r.offset === offset).map((r) => r.deliveryCount)
    assert.deepEqual(deliveriesOf(3), [1, 2])
    assert.deepEqual(deliveriesOf(7), [1, 2])
    assert.deepEqual(deliveriesOf(4), [1])
    assert.deepEqual(
      worker.applied('accept').sort((a, b) => a - b),
      [...Array(10).keys()],
    )
  })

  it('a rejected record is never delivered again (a released one next to it is)', async () => {
    const topic = await createTopic('share-reject', 1)
    // Short locks: anything not archived would come back within the wait below.
    const groupId = await shareGroup('share-reject', { recordLockDurationMs: 2000 })
    const first = createShareMember({ groupId, topics: [topic] })
    const second = createShareMember({ groupId, topics: [topic] })
    await Promise.all([first.consumer.start(), second.consumer.start()])
    await waitForAssignment([first.consumer, second.consumer], topic, 1)
    const decide = (r: { offset: number; deliveryCount: number }) =>
      r.offset === 5 ? 'reject' : r.offset === 6 && r.deliveryCount === 1 ? 'release' : 'accept'
    const workers = [new ShareWorker(first.consumer, decide), new ShareWorker(second.consumer, decide)]
    await produceRecords(topic, 10, { partitions: 1 })
    await waitUntil(() => workers.reduce((n, w) => n + w.applied('accept').length, 0) === 9, {
      message: '9 accepts',
    })
    // Twice the lock duration, both members fetching: an unarchived record would be back.
    await sleep(4500)
    await produceRecords(topic, 1, { partitions: 1 })
    await waitUntil(() => workers.reduce((n, w) => n + w.applied('accept').length, 0) === 10, {
      message: 'the 11th record',
    })
    await Promise.all(workers.map((w) => w.stop()))

    const deliveries = workers.flatMap((w) => w.deliveries)
    assert.deepEqual(
      deliveries.filter((r) => r.offset === 5).map((r) => r.deliveryCount),
      [1],
      'rejected: delivered once, never again',
    )
    assert.deepEqual(
      workers.flatMap((w) => w.applied('reject')),
      [5],
    )
    assert.deepEqual(
      deliveries
        .filter((r) => r.offset === 6)
        .map((r) => r.deliveryCount)
        .sort(),
      [1, 2],
      'released: delivered again',
    )
  })
})
