// Share groups through the app, records that come back: a record whose lock expired
// while its handler runs (renewal off) and that the broker hands to the same member again is
// not run a second time there — the running handler's outcome settles the new delivery; and in
// retries.mode 'redeliver', the group's delivery count limit ends the retries (client dead
// letter topic, then reject) before the broker would archive the record unseen — on a real broker.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { DLQ_HEADERS } from '../../../src/processing/dead-letter-queue.ts'
import { createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'
import { lagZero, shareGroup, shareTestApp } from '../../support/share.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('share groups in the app: records that come back', () => {
  it('a lock that expires while the handler runs: the record comes back to this member and is not run twice at once', async () => {
    const topic = await createTopic('share-app-expire', 1)
    // The shortest lock the broker allows, no renewal: the lock expires while the handler runs
    // and the member's next fetch acquires the record again (a higher delivery count).
    const group = await shareGroup('share-app-expire', {
      recordLockDurationMs: 1000,
      renewAcknowledgeEnable: false,
      deliveryCountLimit: 10,
    })
    await produceRecords(topic, 1, { partitions: 1 })
    const runs: Array<{ deliveryCount: number; start: number; end: number }> = []
    const lost: Array<MultilaneEvents['share.lock_lost']> = []
    const a = shareTestApp('share-expire')
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        handler: async (record) => {
          const run = { deliveryCount: record.deliveryCount, start: performance.now(), end: Number.NaN }
          runs.push(run)
          // The first run outlasts two locks; a later one (its outcome came too late for the
          // lock it settled, so the record came back once more) is short.
          await sleep(runs.length === 1 ? 2500 : 10)
          run.end = performance.now()
        },
      }),
    )
    a.on('share.lock_lost', (e) => lost.push(e))
    await a.start()
    try {
      await waitUntil(() => runs.length > 0 && runs.every((r) => r.end > 0), {
        message: 'the handler finished',
      })
      await lagZero(group)
    } finally {
      await a.stop()
    }
    const [first, ...later] = runs
    assert.equal(first?.deliveryCount, 1)
    // Before the fix the redelivery ran at once beside the first run (and the first run's
    // outcome acknowledged the second delivery).
    for (const run of later)
      assert.ok(run.start >= first!.end, `delivery ${run.deliveryCount} ran while the first run was running`)
    assert.ok(
      lost.some((e) => e.deliveryCount === 1),
      'the lost lock of the first delivery was reported',
    )
    const perDelivery = lost.map((e) => `${e.offset}/${e.deliveryCount}`)
    assert.equal(new Set(perDelivery).size, perDelivery.length, `one event per lost lock: ${perDelivery}`)
  })

  it("retries.mode 'redeliver': the group's delivery count limit ends the retries; the record is dead-lettered and rejected", async () => {
    const topic = await createTopic('share-app-limit', 1)
    const dlq = await createTopic('share-app-limit-dlq', 1)
    // The broker archives a record released on its 2nd delivery: maxRetries 5 can never be reached.
    const group = await shareGroup('share-app-limit', { deliveryCountLimit: 2 })
    await produceRecords(topic, 5, { partitions: 1 })
    const deliveries: number[] = []
    const rejected: Array<MultilaneEvents['share.rejected']> = []
    const a = shareTestApp('share-limit')
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        retries: { mode: 'redeliver', maxRetries: 5, backoff: { initialMs: 10, maxMs: 10 } },
        deadLetterQueue: { topic: dlq },
        handler: (record) => {
          if (record.offset !== 3) return
          deliveries.push(record.deliveryCount)
          throw new Error('poison')
        },
      }),
    )
    a.on('share.rejected', (e) => rejected.push(e))
    const seen: string[] = []
    a.on('error.occurred', (e) => seen.push(`${e.type}: ${e.error.message}`))
    a.on('share.released', (e) => seen.push(`released ${e.offset}/${e.deliveryCount}`))
    await a.start()
    try {
      await waitUntil(() => rejected.length === 1, { message: 'offset 3 rejected' }).catch((error: Error) => {
        throw new Error(`${error.message}; deliveries ${deliveries}; events:\n${seen.join('\n')}`)
      })
      await lagZero(group)
    } finally {
      await a.stop()
    }
    assert.deepEqual(deliveries, [1, 2], 'one delivery, then the last one the group allows')
    assert.equal(rejected[0]?.deliveryCount, 2)
    const [dead] = await readRecords(dlq, 1)
    assert.equal(dead?.headers[DLQ_HEADERS.offset], '3')
  })
})
