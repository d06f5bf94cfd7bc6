// A batch handler's failing batch goes to the dead letter topic whole, however many bytes its
// records hold together: every record of a failed batch is on the dead letter topic, none is lost
// to a produce the broker refuses as too large.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import {
  bootstrapServers,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

test('failed batches holding more than the broker message size limit together are dead-lettered whole', async () => {
  const topic = await createTopic('dlq-big-batch', 1)
  const dlq = await createTopic('dlq-big-batch-target', 1)
  // 300 records of 20 KB, produced in batches of 50 (1 MB, just below the 1 MiB limit); dead-lettered
  // with multilane's source_* headers and a 2000-character error message each, a batch is over it.
  await produceRecords(topic, 300, {
    partitions: 1,
    batchSize: 50,
    record: (i) => ({ key: `k${i}`, value: `${i}:`.padEnd(20_000, 'x'), partition: 0, headers: {} }),
  })
  const errors: Array<MultilaneEvents['error.occurred']> = []
  const sizes: number[] = []
  const app = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'dlq-big-batch' },
    logger: false,
  })
  app.consumerGroup(uniqueName('dlq-big-batch'), (g) => {
    g.topic(topic, {
      processing: { commitIntervalMs: 100 },
      retries: { maxRetries: 0, backoff: { initialMs: 100, maxMs: 500 } },
      deadLetterQueue: { topic: dlq },
      batchHandler: async (records) => {
        sizes.push(records.length)
        throw new Error(`poison batch ${'x'.repeat(2000)}`)
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  await app.start()
  try {
    await waitUntil(async () => (await endOffsets(dlq, 1)).get(0) === 300, {
      timeoutMs: 60_000,
      message: 'all 300 records on the dead letter topic',
    })
  } finally {
    await app.stop()
  }
  assert.ok(
    sizes.some((n) => n >= 50),
    `a failed batch held 50 records (batch sizes: ${sizes.join(', ')})`,
  )
  assert.deepEqual(
    errors.filter((e) => e.type === 'dead_letter_queue.dispatch.error').map((e) => e.error.message),
    [],
  )
})
