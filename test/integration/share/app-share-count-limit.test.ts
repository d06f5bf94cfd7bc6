// Share groups through the app, retries.mode 'redeliver': the group's delivery count limit is
// read from the broker when a release is decided, not once at start. A limit lowered while the
// member runs still ends the retries in the client's dead letter topic (then reject) before
// the broker would archive the records unseen — on a real broker.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { configureShareGroup } from '../../../src/admin/share.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { DLQ_HEADERS } from '../../../src/processing/dead-letter-queue.ts'
import { createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'
import { kafkaOptions, lagZero, shareGroup, shareTestApp } from '../../support/share.ts'

describe('share groups in the app: a delivery count limit changed while the member runs', () => {
  it('a limit lowered from 5 to 2 after start: always-failing records are dead-lettered on their 2nd delivery, none archived unseen', async () => {
    const topic = await createTopic('share-app-limit-change', 1)
    const dlq = await createTopic('share-app-limit-change-dlq', 1)
    const group = await shareGroup('share-app-limit-change', { deliveryCountLimit: 5 })
    const deliveries: string[] = []
    const rejected: Array<MultilaneEvents['share.rejected']> = []
    const seen: string[] = []
    const a = shareTestApp('share-limit-change')
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        retries: { mode: 'redeliver', maxRetries: 10, backoff: { initialMs: 10, maxMs: 10 } },
        deadLetterQueue: { topic: dlq },
        handler: (record) => {
          deliveries.push(`${record.offset}/${record.deliveryCount}`)
          throw new Error('poison')
        },
      }),
    )
    a.on('share.rejected', (e) => rejected.push(e))
    a.on('share.released', (e) => seen.push(`released ${e.offset}/${e.deliveryCount}`))
    a.on('error.occurred', (e) => seen.push(`${e.type}: ${e.error.message}`))
    await a.start()
    try {
      // The member read the limit (5) as it started; the operator lowers it now.
      await configureShareGroup(kafkaOptions(), group, { deliveryCountLimit: 2 })
      await produceRecords(topic, 3, { partitions: 1 })
      await lagZero(group, 60_000)
      await waitUntil(() => rejected.length === 3, {
        timeoutMs: 30_000,
        message: '3 records dead-lettered and rejected',
      }).catch((error: Error) => {
        throw new Error(`${error.message}; deliveries ${deliveries}; events:\n${seen.join('\n')}`)
      })
    } finally {
      await a.stop()
    }
    assert.deepEqual(rejected.map((e) => `${e.offset}/${e.deliveryCount}`).sort(), ['0/2', '1/2', '2/2'])
    const dead = await readRecords(dlq, 3)
    assert.deepEqual(dead.map((r) => r.headers[DLQ_HEADERS.offset]).sort(), ['0', '1', '2'])
  })
})
