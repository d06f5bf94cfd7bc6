// Share groups through the app: records the member fetched ahead wait in its buffer under their
// acquisition locks. A member slower than its fetch-ahead must not let them expire there, over
// and over, until the broker archives them at the delivery count limit unprocessed — on a real
// broker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeShareGroup } from '../../../src/admin/share.ts'
import { createApp } from '../../../src/app/app.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { kafkaOptions, shareGroup } from '../../support/share.ts'

test('a slow member: every fetched record is handled, none expires in the buffer until the broker archives it', async () => {
  const topic = await createTopic('share-app-buffered', 1)
  // A 2 s lock and 3 deliveries: one producer batch of 30 records, 300 ms each, one at a time,
  // take 9 s — the records fetched ahead wait far longer than a lock in the member's buffer.
  const group = await shareGroup('share-app-buffered', { recordLockDurationMs: 2000, deliveryCountLimit: 3 })
  await produceRecords(topic, 30, { partitions: 1, batchSize: 30 })
  const handled = new Map<number, number[]>()
  const errors: Array<MultilaneEvents['error.occurred']> = []
  const a = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'share-buffered' },
    logger: false,
    shutdownTimeoutMs: 5000,
    statisticsIntervalMs: 0,
  })
  a.shareGroup(group, (g) =>
    g.topic(topic, {
      processing: { style: 'continuous', capacity: 1 },
      handler: async (record) => {
        handled.set(record.offset, [...(handled.get(record.offset) ?? []), record.deliveryCount])
        await new Promise((resolve) => setTimeout(resolve, 300))
      },
    }),
  )
  a.on('error.occurred', (e) => errors.push(e))
  await a.start()
  try {
    // Every record ends: handled and accepted, or archived by the broker (lag 0 either way).
    await waitUntil(
      async () => {
        const d = await describeShareGroup(kafkaOptions(), group)
        return d.partitions.length === 1 && d.partitions[0]!.lag === 0
      },
      { timeoutMs: 60_000, message: 'share-partition lag 0' },
    )
  } finally {
    await a.stop()
  }
  const missing = Array.from({ length: 30 }, (_, i) => i).filter((o) => !handled.has(o))
  assert.deepEqual(missing, [], `offsets never handled (archived unseen): ${missing.join(', ')}`)
  assert.deepEqual(
    errors.map((e) => e.type),
    [],
  )
})
