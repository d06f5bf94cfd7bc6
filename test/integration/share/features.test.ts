// Share fetching details against the real broker: acquired offsets without records (transaction
// markers) acknowledged as GAP, the record_limit acquire mode, and the per-partition lock budget.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Producer } from '@platformatic/kafka'
import { describeShareGroup } from '../../../src/admin/share.ts'
import {
  bootstrapServers,
  createAdmin,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'
import { createShareMember, kafkaOptions, ShareWorker, shareGroup } from '../../support/share.ts'

describe('share fetching details', () => {
  it('transaction markers are acknowledged as GAP; read_committed skips the aborted records; nothing stays locked', async () => {
    const topic = await createTopic('share-txn', 1)
    const groupId = await shareGroup('share-txn', { isolationLevel: 'read_committed' })
    const producer = new Producer({
      clientId: 'share-txn-producer',
      bootstrapBrokers: bootstrapServers(),
      idempotent: true,
      transactionalId: uniqueName('share-txn'),
    })
    const batch = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ topic, partition: 0, value: Buffer.from(`${prefix}-${i}`) }))
    try {
      for (const [prefix, commit] of [
        ['c1', true],
        ['ab', false],
        ['c2', true],
      ] as const) {
        const t = await producer.beginTransaction()
        await t.send({ messages: batch(prefix, 20) })
        if (commit) await t.commit()
        else await t.abort()
      }
    } finally {
      await producer.close()
    }
    const { consumer, log } = createShareMember({ groupId, topics: [topic] })
    await consumer.start()
    const worker = new ShareWorker(consumer)
    await waitUntil(() => worker.applied('accept').length === 40, {
      message: '40 committed records accepted',
    })
    // 63 offsets: 60 records and 3 markers; every one is done for the broker (the markers as GAP).
    await waitUntil(
      async () => {
        const d = await describeShareGroup(kafkaOptions(), groupId)
        return d.partitions[0]?.endOffset === 63 && d.partitions[0]?.lag === 0
      },
      { message: 'lag 0 at end offset 63' },
    )
    await worker.stop()
    assert.deepEqual(
      worker.deliveries.map((r) => r.value?.toString().slice(0, 2)).filter((p) => p === 'ab'),
      [],
      'aborted records are not delivered',
    )
    const stats = consumer.stats().partitions
    assert.ok(
      log.fetches.length > 0 && log.lockLost.length === 0,
      `no lock lost (${JSON.stringify(log.lockLost)})`,
    )
    assert.ok(stats.length === 0 || stats.every((p) => p.held === 0), 'nothing left held')
    const gaps = new Set<number>()
    for (const f of log.fetches)
      for (const a of f.acquired)
        for (const r of a.ranges) for (let o = r.firstOffset; o <= r.lastOffset; o++) gaps.add(o)
    for (const d of worker.deliveries) gaps.delete(d.offset)
    assert.ok(gaps.has(20) && gaps.has(62), `marker offsets acquired without records: ${[...gaps].join(',')}`)
  })

  it('record_limit: no fetch acquires more than maxRecords, and nothing is fetched ahead', async () => {
    const topic = await createTopic('share-record-limit', 1)
    const groupId = await shareGroup('share-record-limit')
    const { consumer, log } = createShareMember({
      groupId,
      topics: [topic],
      acquireMode: 'record_limit',
      maxRecords: 7,
    })
    await consumer.start()
    let maxBuffered = 0
    const worker = new ShareWorker(consumer, () => {
      maxBuffered = Math.max(maxBuffered, consumer.totalBuffered())
      return 'accept'
    })
    // One producer batch of 100: batch_optimized would hand it over whole.
    await produceRecords(topic, 100, { partitions: 1, batchSize: 100 })
    await waitUntil(() => worker.applied('accept').length === 100, { message: '100 accepts' })
    await worker.stop()
    const sizes = log.fetches.map((f) => f.acquired.reduce((n, a) => n + a.records, 0)).filter((n) => n > 0)
    assert.ok(sizes.length >= 15, `${sizes.length} fetches`)
    assert.ok(
      sizes.every((n) => n <= 7),
      `records per fetch: ${sizes.join(',')}`,
    )
    assert.ok(maxBuffered <= 7, `at most one fetch buffered (${maxBuffered})`)
  })

  it('the per-partition lock budget bounds what the member holds (buffered + processing)', async () => {
    const topic = await createTopic('share-budget', 1)
    const groupId = await shareGroup('share-budget')
    const budget = 120
    const { consumer } = createShareMember({
      groupId,
      topics: [topic],
      maxRecordLocks: budget,
      maxRecords: 50,
    })
    await consumer.start()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let maxHeld = 0
    const worker = new ShareWorker(consumer, async () => {
      maxHeld = Math.max(maxHeld, consumer.stats().partitions[0]?.held ?? 0)
      await gate
      return 'accept' as const
    })
    await produceRecords(topic, 1000, { partitions: 1, batchSize: 10 })
    // Nothing is acknowledged until the member holds its whole budget and fetching stopped.
    await waitUntil(() => (consumer.stats().partitions[0]?.held ?? 0) >= budget - 10, {
      message: 'the budget filled',
    })
    // Keep watching for a while (the member keeps its fetch loop running, 20 fetches' worth).
    let held = 0
    for (let i = 0; i < 20; i++) {
      held = Math.max(held, consumer.stats().partitions[0]!.held)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    // batch_optimized may exceed a limit by the rest of a producer batch (10 records here).
    assert.ok(held <= budget + 10, `held ${held} with a budget of ${budget}`)
    release()
    await waitUntil(() => worker.applied('accept').length === 1000, {
      timeoutMs: 60_000,
      message: '1000 accepts',
    })
    await worker.stop()
    assert.ok(maxHeld <= budget + 10, `never held more than the budget (max ${maxHeld})`)
  })

  it('a partition at its lock budget does not stop the member fetching its other partitions', async () => {
    const topic = await createTopic('share-budget-two', 2)
    const groupId = await shareGroup('share-budget-two')
    const budget = 30
    const { consumer } = createShareMember({
      groupId,
      topics: [topic],
      maxRecordLocks: budget,
      maxRecords: 20,
    })
    await consumer.start()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    // Partition 0's records are held (their handlers wait); partition 1's finish at once.
    const worker = new ShareWorker(consumer, async (record) => {
      if (record.partition === 0) await gate
      return 'accept' as const
    })
    const heldOf = (partition: number) =>
      consumer.stats().partitions.find((p) => p.topic === topic && p.partition === partition)?.held ?? 0
    try {
      await produceRecords(topic, 200, {
        partitions: 2,
        batchSize: 10,
        record: (i) => ({ key: `k${i}`, value: `v${i}`, partition: 0, headers: {} }),
      })
      await waitUntil(() => heldOf(0) >= budget - 10, { message: 'partition 0 filled its budget' })
      await produceRecords(topic, 20, {
        partitions: 2,
        record: (i) => ({ key: `k${i}`, value: `v${i}`, partition: 1, headers: {} }),
      })
      // The budget is per partition: partition 1 has all of its own.
      await waitUntil(() => worker.applied('accept', 1).length === 20, {
        timeoutMs: 15_000,
        message: `partition 1's 20 records accepted while partition 0 holds ${heldOf(0)} locks`,
      })
    } finally {
      release()
    }
    await waitUntil(() => worker.applied('accept', 0).length === 200, {
      timeoutMs: 60_000,
      message: "partition 0's 200 records accepted",
    })
    await worker.stop()
  })

  it('a topic that does not exist yet: the member joins, gets nothing, and consumes once it is created', async () => {
    const topic = uniqueName('share-later-topic')
    const groupId = await shareGroup('share-later-topic')
    const { consumer } = createShareMember({ groupId, topics: [topic] })
    await consumer.start()
    assert.deepEqual(consumer.assignment(), [])
    const admin = createAdmin()
    try {
      await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 })
    } finally {
      await admin.close()
    }
    const worker = new ShareWorker(consumer)
    await waitUntil(() => consumer.assignment().length === 2, {
      timeoutMs: 30_000,
      message: 'assigned once created',
    })
    await produceRecords(topic, 20, { partitions: 2 })
    await waitUntil(() => worker.applied('accept', 0).length + worker.applied('accept', 1).length === 20, {
      message: '20 accepts',
    })
    await worker.stop()
  })
})
