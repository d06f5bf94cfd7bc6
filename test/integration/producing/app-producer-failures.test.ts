// app.producer when the produce cannot happen: every failure is a ProducerError with a catalogue
// code whose message names the topic and the broker's reason — a record over the topic's
// max.message.bytes, a partition the topic does not have (nothing is sent; it is not moved to
// another partition), a topic deleted while the app produces (each later send fails at once with
// PRODUCE_TOPIC_NOT_FOUND, not after the request deadline), no broker reachable — never a raw
// client error. Sends issued before app.stop() finish before the producer closes; later ones fail
// with PRODUCER_CLOSED.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import {
  bootstrapServers,
  createAdmin,
  createTopic,
  endOffsets,
  waitUntil,
  within,
} from '../../support/kafka.ts'

type Failure = Error & { code?: string }

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  const outcome = await within(
    promise.then(
      () => 'sent',
      (e: Failure) => e,
    ),
    30_000,
  )
  assert.notEqual(outcome, 'timed out', 'the produce must fail, not hang')
  assert.notEqual(outcome, 'sent', 'the produce must fail')
  return outcome as Failure
}

test('a record larger than the topic max.message.bytes fails with PRODUCE_FAILED naming the topic and MESSAGE_TOO_LARGE', async () => {
  const topic = await createTopic('producer-too-large', 1, { 'max.message.bytes': '10000' })
  const a = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'too-large' }, logger: false })
  try {
    const error = await failureOf(a.producer.send({ topic, value: Buffer.alloc(50_000) }))
    assert.equal(error.name, 'ProducerError')
    assert.equal(error.code, 'PRODUCE_FAILED')
    assert.match(error.message, new RegExp(`"${topic}"`))
    assert.match(error.message, /MESSAGE_TOO_LARGE/)
    // The producer still works for records that fit.
    const ok = await a.producer.send({ topic, value: 'small' })
    assert.equal(ok.topic, topic)
  } finally {
    await a.stop()
  }
})

test('a produce while no broker is reachable fails with a ProducerError naming the bootstrap', async () => {
  const a = createApp({
    kafka: { bootstrap: '127.0.0.1:1', clientId: 'unreachable', requestTimeoutMs: 3_000 },
    logger: false,
  })
  try {
    const error = await failureOf(a.producer.send({ topic: 'orders', value: 'x' }))
    assert.equal(error.name, 'ProducerError')
    assert.equal(error.code, 'PRODUCE_FAILED')
    assert.match(error.message, /"orders"/)
    assert.match(error.message, /127\.0\.0\.1:1/)
  } finally {
    await a.stop()
  }
})

test('sends issued before app.stop() finish before it closes the producer; one after it fails with PRODUCER_CLOSED', async () => {
  const topic = await createTopic('producer-stop-race', 1)
  const a = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'stop-race' }, logger: false })
  // Issued while the topic lookup of the first is still in flight.
  const sending = [a.producer.send({ topic, value: 'one' }), a.producer.sendBatch([{ topic, value: 'two' }])]
  await a.stop()
  const outcomes = await Promise.allSettled(sending)
  assert.deepEqual(
    outcomes.map((o) => (o.status === 'fulfilled' ? 'sent' : (o.reason as Failure).message)),
    ['sent', 'sent'],
  )
  assert.deepEqual([...(await endOffsets(topic, 1)).values()], [2])
  const error = await failureOf(a.producer.send({ topic, value: 'after' }))
  assert.equal(error.name, 'ProducerError')
  assert.equal(error.code, 'PRODUCER_CLOSED')
})

test('a partition the topic does not have fails with INVALID_PRODUCE_RECORD naming it; nothing is sent', async () => {
  const topic = await createTopic('producer-no-partition', 2)
  const a = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'no-partition' }, logger: false })
  try {
    const error = await failureOf(a.producer.send({ topic, value: 'x', partition: 7 }))
    assert.equal(error.code, 'INVALID_PRODUCE_RECORD')
    assert.match(error.message, new RegExp(`partition 7 does not exist: topic "${topic}" has 2 partitions`))
    const batch = await failureOf(
      a.producer.sendBatch([
        { topic, value: 'ok', partition: 1 },
        { topic, value: 'x', partition: 2 },
      ]),
    )
    assert.equal(batch.code, 'INVALID_PRODUCE_RECORD')
    assert.match(batch.message, /^records\[1\]: partition 2 does not exist/)
    assert.deepEqual([...(await endOffsets(topic, 2)).values()], [0, 0])
  } finally {
    await a.stop()
  }
})

test('a topic deleted while the app produces: each later send fails at once with PRODUCE_TOPIC_NOT_FOUND', async () => {
  const topic = await createTopic('producer-deleted', 1)
  // A deadline far beyond the test's patience: a send that waits for it has hung.
  const a = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'deleted', requestTimeoutMs: 120_000 },
    logger: false,
  })
  try {
    await a.producer.send({ topic, value: 'before' })
    const admin = createAdmin()
    try {
      await admin.deleteTopics({ topics: [topic] })
      await waitUntil(
        async () => !(await admin.metadata({ topics: [], forceUpdate: true })).topics.has(topic),
        {
          message: `${topic} is gone from the metadata`,
        },
      )
    } finally {
      await admin.close()
    }
    for (const attempt of [1, 2, 3]) {
      const outcome = await within(
        a.producer.send({ topic, value: 'after' }).then(
          () => 'sent',
          (e: Failure) => e,
        ),
        60_000,
      )
      assert.notEqual(
        outcome,
        'timed out',
        `send ${attempt} after the deletion must fail, not wait for the deadline`,
      )
      assert.notEqual(outcome, 'sent')
      const error = outcome as Failure
      assert.equal(error.code, 'PRODUCE_TOPIC_NOT_FOUND', `send ${attempt}: ${error.message}`)
      assert.match(error.message, new RegExp(`"${topic}" does not exist`))
    }
  } finally {
    await a.stop()
  }
})
