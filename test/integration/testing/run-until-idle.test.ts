// `multilane/testing` for an app's own tests: topics created ready, records produced, and an app
// run until idle (consumer groups committed at the log end; share groups at share-partition lag
// 0) returns exactly the records it handled and the events it emitted; an app that does not get
// there fails after the timeout, naming what still lags.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { json } from '../../../src/processing/deserializers.ts'
import { createTopics, produce, runUntilIdle, testKafka, uniqueName } from '../../../src/testing/index.ts'

test('runUntilIdle runs a real app to lag 0 and returns exactly the records it handled, dead-lettered ones apart', async () => {
  const { bootstrap, source } = await testKafka()
  assert.equal(source, 'env')
  const topic = uniqueName('testing-orders')
  const dlq = `${topic}.dlq`
  await createTopics(bootstrap, { [topic]: 3, [dlq]: 1 })
  await produce(
    bootstrap,
    topic,
    Array.from({ length: 30 }, (_, i) => ({ key: `customer-${i % 7}`, value: { id: i, poison: i === 13 } })),
  )
  const seen: number[] = []
  const group = uniqueName('testing-orders')
  const app = createApp({ kafka: { bootstrap, clientId: 'testing' }, logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      deserializer: json<{ id: number; poison: boolean }>(),
      processing: { style: 'continuous', ordering: 'key', capacity: 10, commitIntervalMs: 100 },
      retries: { backoff: { initialMs: 10, maxMs: 10 } },
      deadLetterQueue: { topic: dlq, maxRetries: 1 },
      handler: (record) => {
        if (record.payload?.poison) throw new Error('poison')
        seen.push(record.payload!.id)
      },
    })
  })
  const result = await runUntilIdle(app, { timeoutMs: 60_000 })
  assert.equal(result.handled.length, 29)
  assert.deepEqual(
    [...new Set(result.handled.map((r) => `${r.topic}#${r.partition}@${r.offset}`))].length,
    29,
    'each record once',
  )
  assert.ok(result.handled.every((r) => r.consumerGroup === group && r.topic === topic))
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 13),
  )
  assert.equal(result.deadLettered.length, 1)
  assert.equal(result.deadLettered[0]!.deadLetterTopic, dlq)
  const names = new Set(result.events.map((e) => e.name))
  for (const name of ['partitions.assigned', 'consumer.consumed', 'offsets.committed', 'error.occurred'])
    assert.ok(names.has(name as never), `${name} collected`)
})

test('runUntilIdle runs a share group to share-partition lag 0', async () => {
  const { bootstrap } = await testKafka()
  const topic = uniqueName('testing-jobs')
  await createTopics(bootstrap, { [topic]: 1 })
  await produce(
    bootstrap,
    topic,
    Array.from({ length: 12 }, (_, i) => ({ value: `job-${i}` })),
  )
  const app = createApp({ kafka: { bootstrap, clientId: 'testing-share' }, logger: false })
  const group = uniqueName('testing-jobs')
  app.shareGroup(group, (g) => {
    g.options({ autoOffsetReset: 'earliest' })
    g.topic(topic, { handler: () => {} })
  })
  const result = await runUntilIdle(app, { timeoutMs: 90_000 })
  assert.deepEqual(
    result.handled.map((r) => r.offset).sort((a, b) => a - b),
    Array.from({ length: 12 }, (_, i) => i),
  )
})

test('runUntilIdle fails after its timeout naming the group, topic and partition still lagging, and stops the app', async () => {
  const { bootstrap } = await testKafka()
  const topic = uniqueName('testing-stuck')
  await createTopics(bootstrap, { [topic]: 2 })
  await produce(bootstrap, topic, [
    { value: 'a', partition: 0 },
    { value: 'b', partition: 1 },
    { value: 'c', partition: 1 },
  ])
  const group = uniqueName('testing-stuck')
  const app = createApp({
    kafka: { bootstrap, clientId: 'testing-stuck' },
    logger: false,
    shutdownTimeoutMs: 500,
  })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { commitIntervalMs: 100 },
      handler: async (record, ctx) => {
        if (record.partition !== 1) return
        // Never finishes (until the shutdown aborts it).
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))
      },
    })
  })
  await assert.rejects(runUntilIdle(app, { timeoutMs: 4000 }), (error: Error) => {
    assert.match(error.message, /the app was not idle after 4000 ms; still lagging:/)
    assert.match(
      error.message,
      new RegExp(
        `consumerGroup "${group}" topic "${topic}" partition 1: committed (nothing|0), log end 2 \\(lag 2\\)`,
      ),
    )
    assert.doesNotMatch(error.message, /partition 0:/)
    return true
  })
  assert.equal(app.health().live, false, 'stopped')
})
