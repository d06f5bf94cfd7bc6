// Poison input in a consumer group: undeserializable payloads, headers that are not UTF-8, a
// lane reducer answering NaN or out of range, a record larger than the fetch size. Each gets its
// documented behaviour (retry and dead letter queue, U+FFFD text with the raw bytes kept, lane 0,
// the record whole) while every other record — on the other partition, in other lanes, after the
// poison record — is handled exactly once and committed at the log end. The poisons that hold a
// partition: poison-input-held.test.ts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { ErrorOccurredEvent } from '../../../src/instrumentation/events.ts'
import { DLQ_HEADERS } from '../../../src/processing/dead-letter-queue.ts'
import { custom, json } from '../../../src/processing/deserializers.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import { bootstrapServers, createTopic, endOffsets, uniqueName, waitUntil } from '../../support/kafka.ts'
import {
  INVALID_UTF8,
  produceRaw,
  rawHeader,
  readRaw,
  records,
  seqOf,
  successes,
} from '../../support/poison.ts'
import { waitCommittedAtEnd } from '../../support/segment-processing.ts'

const kafka = (clientId: string) => ({ bootstrap: bootstrapServers(), clientId })
const fast = { initialMs: 50, maxMs: 200 }

test('undeserializable payloads are retried, then dead-lettered with the deserialization error; every other record is handled once and committed', async () => {
  const topic = await createTopic('poison-json', 2)
  const dlq = await createTopic('poison-json-dlq', 1)
  // Not JSON; bytes that are not UTF-8; an empty value.
  const bad = new Map<number, Buffer>([
    [14, Buffer.from('{"i": 14')],
    [51, INVALID_UTF8],
    [120, Buffer.alloc(0)],
  ])
  await produceRaw(
    topic,
    records(200, 2, (i, r) => (bad.has(i) ? { ...r, value: bad.get(i)! } : r)),
  )
  const group = uniqueName('poison-json')
  const handled = successes()
  const errors: ErrorOccurredEvent[] = []
  const app = createApp({ kafka: kafka('poison-json'), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      deserializer: json<{ i: number }>(),
      processing: { style: 'continuous', ordering: 'key', commitIntervalMs: 100 },
      retries: { backoff: fast },
      deadLetterQueue: { topic: dlq, maxRetries: 1 },
      handler: (record) => {
        assert.equal(record.payload?.i, seqOf(record))
        handled.add(seqOf(record))
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  await app.start()
  try {
    await waitUntil(() => handled.size === 197, { timeoutMs: 60_000, message: '197 handled' })
    await waitCommittedAtEnd([group], topic, 2)
  } finally {
    await app.stop()
  }
  const dead = await readRaw(dlq, 3)
  assert.deepEqual(
    dead.map((d) => Number(rawHeader(d.headers, 'seq'))).sort((a, b) => a - b),
    [14, 51, 120],
  )
  for (const d of dead) {
    assert.deepEqual(d.value, bad.get(Number(rawHeader(d.headers, 'seq'))), 'the original bytes')
    assert.equal(rawHeader(d.headers, DLQ_HEADERS.errorName)?.toString(), 'DeserializationError')
    assert.match(rawHeader(d.headers, DLQ_HEADERS.errorMessage)!.toString(), /is not valid JSON/)
    assert.equal(rawHeader(d.headers, DLQ_HEADERS.attempts)?.toString(), '2')
  }
  assert.equal((await endOffsets(dlq, 1)).get(0), 3, 'each dead-lettered once')
  assert.equal(errors.filter((e) => e.type === 'consumer.deserializer.error').length, 6, 'two attempts each')
  assert.deepEqual(
    errors.filter((e) => e.type !== 'consumer.deserializer.error'),
    [],
    'no other errors',
  )
})

test('a custom deserializer that throws is reported as a deserialization error naming the deserializer and the record', async () => {
  const topic = await createTopic('poison-custom', 2)
  const dlq = await createTopic('poison-custom-dlq', 1)
  await produceRaw(
    topic,
    records(60, 2, (i, r) => (i === 9 ? { ...r, value: Buffer.from('garbage') } : r)),
  )
  const handled = successes()
  const errors: ErrorOccurredEvent[] = []
  const app = createApp({ kafka: kafka('poison-custom'), logger: false })
  app.consumerGroup(uniqueName('poison-custom'), (g) => {
    g.topic(topic, {
      deserializer: custom('order-v1', (value) => {
        const text = value?.toString() ?? ''
        if (!text.startsWith('{')) throw new TypeError(`unexpected byte ${text.charCodeAt(0)}`)
        return JSON.parse(text) as { i: number }
      }),
      processing: { ordering: 'partition', commitIntervalMs: 100 },
      retries: { backoff: fast },
      deadLetterQueue: { topic: dlq, maxRetries: 0 },
      handler: (record) => {
        assert.equal(record.payload.i, seqOf(record))
        handled.add(seqOf(record))
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  await app.start()
  try {
    await waitUntil(() => handled.size === 59, { timeoutMs: 60_000, message: '59 handled' })
  } finally {
    await app.stop()
  }
  assert.deepEqual(
    errors.map((e) => e.type),
    ['consumer.deserializer.error'],
    'reported as a deserialization error, not as a handler error',
  )
  const [error] = errors
  assert.equal(error!.error.name, 'DeserializationError')
  assert.match(
    error!.error.message,
    new RegExp(`^${topic}#1@4: deserializer "order-v1" failed: unexpected byte 103`),
  )
  assert.equal((error!.error.cause as Error).name, 'TypeError', 'the original error is the cause')
  const [dead] = await readRaw(dlq, 1)
  assert.equal(rawHeader(dead!.headers, DLQ_HEADERS.errorName)?.toString(), 'DeserializationError')
})

test('headers that are not UTF-8: read as text with U+FFFD, routed by, and dead-lettered byte for byte; nothing else fails', async () => {
  const topic = await createTopic('poison-utf8', 2)
  const dlq = await createTopic('poison-utf8-dlq', 1)
  const badName = Buffer.concat([Buffer.from('x-'), INVALID_UTF8])
  // Every 10th record has a `user` value and a header name that are not UTF-8; record 14 also fails.
  await produceRaw(
    topic,
    records(200, 2, (i, r) =>
      i % 10 === 4
        ? { ...r, headers: [...r.headers, [Buffer.from('user'), INVALID_UTF8], [badName, INVALID_UTF8]] }
        : { ...r, headers: [...r.headers, [Buffer.from('user'), Buffer.from(`user-${i % 7}`)]] },
    ),
  )
  const group = uniqueName('poison-utf8')
  const handled = successes()
  const errors: ErrorOccurredEvent[] = []
  const app = createApp({ kafka: kafka('poison-utf8'), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { style: 'continuous', ordering: 'key', commitIntervalMs: 100 },
      virtualPartitions: { partitioner: (r) => r.headers.get('user'), maxPartitions: 8 },
      retries: { backoff: fast },
      deadLetterQueue: { topic: dlq, maxRetries: 0 },
      handler: (record) => {
        const seq = seqOf(record)
        if (seq % 10 === 4) {
          assert.equal(record.headers.get('user'), INVALID_UTF8.toString('utf8'))
          assert.ok(record.headers.get('user')!.includes('\uFFFD'))
          assert.equal(record.headers.toObject()[badName.toString('utf8')], INVALID_UTF8.toString('utf8'))
          assert.deepEqual(record.headers.raw()[2], [badName, INVALID_UTF8], 'the raw bytes stay available')
        }
        if (seq === 14) throw new Error('record 14 fails')
        handled.add(seq)
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  await app.start()
  try {
    await waitUntil(() => handled.size === 199, { timeoutMs: 60_000, message: '199 handled' })
    await waitCommittedAtEnd([group], topic, 2)
  } finally {
    await app.stop()
  }
  const [dead] = await readRaw(dlq, 1)
  assert.deepEqual(
    dead!.headers.slice(0, 3),
    [
      [Buffer.from('seq'), Buffer.from('14')],
      [Buffer.from('user'), INVALID_UTF8],
      [badName, INVALID_UTF8],
    ],
    'the original headers, byte for byte, before the source_* ones',
  )
  assert.deepEqual(
    errors.map((e) => `${e.type}@${e.offset}`),
    ['consumer.handler.error@7'],
    'the failing record only: no header made anything else fail',
  )
})

test('a lane reducer that answers NaN, -1, 1.5, 99 or throws: lane 0, one virtual_partitions.reducer.error per record, every record handled once', async () => {
  const topic = await createTopic('poison-reducer', 2)
  await produceRaw(topic, records(200, 2))
  const group = uniqueName('poison-reducer')
  const invalid: Record<string, () => number> = {
    k3: () => Number.NaN,
    k5: () => -1,
    k8: () => 1.5,
    k11: () => 99,
    k13: () => {
      throw new Error('reducer failed')
    },
  }
  const handled = successes()
  const lastSeqOfKey = new Map<string, number>()
  const errors: ErrorOccurredEvent[] = []
  const app = createApp({ kafka: kafka('poison-reducer'), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { style: 'continuous', ordering: 'key', commitIntervalMs: 100 },
      virtualPartitions: {
        partitioner: (r) => r.keyString,
        reducer: (value, count) => invalid[String(value)]?.() ?? defaultSegmentReducer(value, count),
        maxPartitions: 8,
      },
      handler: (record) => {
        const key = record.keyString!
        assert.ok((lastSeqOfKey.get(key) ?? -1) < seqOf(record), `key ${key} in order`)
        lastSeqOfKey.set(key, seqOf(record))
        handled.add(seqOf(record))
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  await app.start()
  try {
    await waitUntil(() => handled.size === 200, { timeoutMs: 60_000, message: '200 handled' })
    await waitCommittedAtEnd([group], topic, 2)
  } finally {
    await app.stop()
  }
  const reducerErrors = errors.filter((e) => e.type === 'virtual_partitions.reducer.error')
  assert.equal(reducerErrors.length, 5 * 10, 'one per record of the five keys')
  assert.equal(errors.length, reducerErrors.length, 'no other errors')
  const messages = new Set(reducerErrors.map((e) => e.error.message))
  for (const answer of ['NaN', '-1', '1.5', '99'])
    assert.ok(messages.has(`reducer returned ${answer}; expected an integer in [0, 8)`), answer)
  assert.ok(messages.has('reducer failed'))
})

test('a record larger than the fetch size is delivered whole; the records after it and on the other partition flow', async () => {
  // The engine asks for at most 1 MiB per partition; Kafka still returns a first batch larger than that.
  const topic = await createTopic('poison-large', 2, { 'max.message.bytes': String(4 * 1024 * 1024) })
  const large = new Map<number, number>([
    [20, 1536 * 1024],
    [41, 3 * 1024 * 1024],
  ])
  await produceRaw(
    topic,
    records(100, 2, (i, r) =>
      large.has(i) ? { ...r, value: Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(large.get(i)!) })) } : r,
    ),
    10,
  )
  const group = uniqueName('poison-large')
  const handled = successes()
  const sizes = new Map<number, number>()
  const app = createApp({ kafka: kafka('poison-large'), logger: false })
  const errors: ErrorOccurredEvent[] = []
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      deserializer: json<{ i: number }>(),
      processing: { style: 'continuous', ordering: 'partition', commitIntervalMs: 100 },
      handler: (record) => {
        assert.equal(record.payload?.i, seqOf(record))
        sizes.set(seqOf(record), record.value!.length)
        handled.add(seqOf(record))
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  await app.start()
  try {
    await waitUntil(() => handled.size === 100, { timeoutMs: 90_000, message: '100 handled' })
    await waitCommittedAtEnd([group], topic, 2)
  } finally {
    await app.stop()
  }
  for (const [i, pad] of large) assert.ok(sizes.get(i)! > pad, `record ${i} whole (${sizes.get(i)} bytes)`)
  assert.deepEqual(errors, [])
})
