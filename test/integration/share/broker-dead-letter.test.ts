// The broker's own share-group dead letter topic (KIP-1191, Kafka ≥ 4.4 with share.version 2;
// the suite's pinned broker): a record the app rejects is written there by the broker, with
// its __dlq.errors.* headers — no client-side produce involved.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeShareGroup } from '../../../src/admin/share.ts'
import { createApp } from '../../../src/app/app.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'
import { kafkaOptions, shareGroup } from '../../support/share.ts'

test("a rejected record goes to the broker's dead letter topic when the group has one", async () => {
  const topic = await createTopic('share-broker-dlq', 1)
  // The broker only writes to topics named with its errors.deadletterqueue.topic.name.prefix
  // (default "dlq.") whose errors.deadletterqueue.group.enable is true.
  const dlq = await createTopic('dlq.share-broker', 1, {
    'errors.deadletterqueue.group.enable': 'true',
  })
  const group = await shareGroup('share-broker-dlq', { deadLetterTopic: dlq, deadLetterCopyRecord: true })
  await produceRecords(topic, 5, { partitions: 1 })
  const rejected: number[] = []
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'broker-dlq' }, logger: false })
  app.shareGroup(group, (g) =>
    g.topic(topic, {
      retries: { maxRetries: 0 },
      handler: (record) => {
        if (record.offset === 2) throw new Error('poison')
      },
    }),
  )
  app.on('share.rejected', (e) => rejected.push(e.offset))
  await app.start()
  try {
    await waitUntil(() => rejected.length === 1, { message: 'offset 2 rejected' })
  } finally {
    await app.stop()
  }
  const [dead] = await readRecords(dlq, 1)
  assert.equal(dead?.headers['__dlq.errors.topic'], topic)
  assert.equal(dead?.headers['__dlq.errors.offset'], '2')
  assert.equal(dead?.headers['__dlq.errors.group'], group)
  assert.equal(dead?.value, 'v2', 'the record was copied (errors.deadletterqueue.copy.record.enable)')
  // `multilane share describe` shows the dead letter settings `share configure` wrote.
  const { configs } = await describeShareGroup(kafkaOptions(), group)
  assert.equal(configs['errors.deadletterqueue.topic.name'], dlq)
  assert.equal(configs['errors.deadletterqueue.copy.record.enable'], 'true')
})
