// Poison input in a consumer group: an undeserializable payload, a handler that always throws,
// a reducer answering NaN or out of range, a record larger than the fetch size, headers that are
// not UTF-8, a dead letter topic that refuses the record as too large. Each gets its documented
// behaviour (retry, dead letter queue, lane 0, or a clear error and a held partition) while the
// app keeps running: every other record — on the other partitions, in other lanes, after the
// poison record — is handled exactly once and committed, counted.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { ErrorOccurredEvent } from '../../../src/instrumentation/events.ts'
import { DLQ_HEADERS } from '../../../src/processing/dead-letter-queue.ts'
import { custom, json } from '../../../src/processing/deserializers.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  endOffsets,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'
import {
  INVALID_UTF8,
  produceRaw,
  type RawRecord,
  rawHeader,
  readRaw,
  setTopicConfig,
} from '../../support/poison.ts'
import { waitCommittedAtEnd } from '../../support/segment-processing.ts'

const kafka = (clientId: string) => ({ bootstrap: bootstrapServers(), clientId })
const fast = { initialMs: 50, maxMs: 200 }

/** `count` records over `partitions`: key `k<i % 20>`, value `{"i":i}`, header seq=i; `poison(i)` may replace one. */
function records(
  count: number,
  partitions: number,
  poison: (i: number, r: RawRecord) => RawRecord = (_i, r) => r,
): RawRecord[] {
  return Array.from({ length: count }, (_, i) =>
    poison(i, {
      partition: i % partitions,
      key: Buffer.from(`k${i % 20}`),
      value: Buffer.from(JSON.stringify({ i })),
      headers: [[Buffer.from('seq'), Buffer.from(String(i))]],
    }),
  )
}

const seqOf = (r: { headers: { get(name: string): string | undefined } }) => Number(r.headers.get('seq'))

/** Records handled to success, by seq; asserts none twice. */
function successes(): { add(seq: number): void; readonly size: number; has(seq: number): boolean } {
  const done = new Set<number>()
  return {
    add(seq) {
      assert.ok(!done.has(seq), `record ${seq} handled to success twice`)
      done.add(seq)
    },
    get size() {
      return done.size
    },
    has: (seq) => done.has(seq),
  }
}

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

test('a handler that always throws, without a dead letter queue: retried forever and reported; its partition is held at the record, nothing else waits', async () => {
  const topic = await createTopic('poison-stuck', 2)
  await produceRaw(topic, records(200, 2))
  const group = uniqueName('poison-stuck')
  const stuck = 22 // partition 0, offset 11, key k2
  const handled = successes()
  const errors: ErrorOccurredEvent[] = []
  const app = createApp({ kafka: kafka('poison-stuck'), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { style: 'continuous', ordering: 'key', commitIntervalMs: 100 },
      retries: { maxRetries: 2, backoff: fast },
      handler: (record) => {
        if (seqOf(record) === stuck) throw new Error('always fails')
        handled.add(seqOf(record))
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  await app.start()
  try {
    // Every record but those of the stuck one's key after it (k2: seq 42, 62, … on partition 0).
    const waiting = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 20 === 2 && i >= stuck)
    await waitUntil(() => handled.size === 200 - waiting.length, {
      timeoutMs: 60_000,
      message: `${200 - waiting.length} handled`,
    })
    await waitUntil(async () => (await committedOffsets(group, topic, 2)).get(1)?.offset === 100, {
      message: 'partition 1 committed at its end',
    })
    await waitUntil(() => errors.filter((e) => e.type === 'consumer.retries_exhausted').length >= 3, {
      message: 'retries exhausted, reported on every later failure',
    })
    await waitUntil(async () => (await committedOffsets(group, topic, 2)).get(0)?.offset === 11, {
      message: 'partition 0 committed up to the record',
    })
    // and no further, while the record fails
    await new Promise((r) => setTimeout(r, 1000))
    assert.equal(
      (await committedOffsets(group, topic, 2)).get(0)?.offset,
      11,
      'partition 0 held at the record',
    )
    for (const i of waiting) assert.ok(!handled.has(i), `record ${i} waits behind its key`)
  } finally {
    await app.stop()
  }
  assert.ok(errors.every((e) => e.offset === 11 && e.partition === 0))
  assert.ok(
    errors.every((e) => e.type === 'consumer.handler.error' || e.type === 'consumer.retries_exhausted'),
  )
})

test('a dead letter topic that refuses the record as too large: held and reported, the rest flows; dead-lettered once the topic takes it', async () => {
  const topic = await createTopic('poison-dlq-size', 2, { 'max.message.bytes': String(1024 * 1024) })
  const dlq = await createTopic('poison-dlq-size-dlq', 1, { 'max.message.bytes': '4096' })
  // Record 10 (partition 0, offset 5) is 16 KiB and fails; record 15 (partition 1, offset 7) fails small.
  await produceRaw(
    topic,
    records(200, 2, (i, r) => (i === 10 ? { ...r, value: Buffer.alloc(16 * 1024, 'x') } : r)),
  )
  const group = uniqueName('poison-dlq-size')
  const failing = new Set([10, 15])
  const handled = successes()
  const errors: ErrorOccurredEvent[] = []
  const dispatched: number[] = []
  const app = createApp({ kafka: kafka('poison-dlq-size'), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { style: 'continuous', ordering: 'key', commitIntervalMs: 100 },
      retries: { backoff: fast },
      deadLetterQueue: { topic: dlq, maxRetries: 0 },
      handler: (record) => {
        if (failing.has(seqOf(record))) throw new Error(`record ${seqOf(record)} fails`)
        handled.add(seqOf(record))
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  app.on('dead_letter_queue.dispatched', (e) => dispatched.push(e.offset))
  await app.start()
  try {
    // Everything else is handled (other keys of partition 0 too), the small one dead-lettered.
    const waiting = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 20 === 10 && i > 10)
    await waitUntil(() => handled.size === 198 - waiting.length && dispatched.includes(7), {
      timeoutMs: 60_000,
      message: 'the rest handled, record 15 dead-lettered',
    })
    await waitUntil(async () => (await committedOffsets(group, topic, 2)).get(1)?.offset === 100, {
      message: 'partition 1 committed at its end',
    })
    await waitUntil(() => errors.filter((e) => e.type === 'dead_letter_queue.dispatch.error').length >= 2, {
      message: 'the refused dispatch reported, and retried',
    })
    const refused = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.equal(refused.partition, 0)
    assert.equal(refused.offset, 5)
    assert.match(refused.error.message, /MESSAGE_TOO_LARGE/)
    assert.match(refused.error.message, new RegExp(`"?${dlq}"?`))
    await waitUntil(async () => (await committedOffsets(group, topic, 2)).get(0)?.offset === 5, {
      message: 'partition 0 committed up to the record',
    })
    // and no further, while the record fails
    await new Promise((r) => setTimeout(r, 1000))
    assert.equal(
      (await committedOffsets(group, topic, 2)).get(0)?.offset,
      5,
      'partition 0 held at the record',
    )
    assert.ok(!dispatched.includes(5))
    await setTopicConfig(dlq, 'max.message.bytes', String(1024 * 1024))
    await waitUntil(() => dispatched.includes(5), {
      timeoutMs: 60_000,
      message: 'dead-lettered once it fits',
    })
    await waitUntil(() => handled.size === 198, { message: 'the records behind it handled' })
    await waitCommittedAtEnd([group], topic, 2)
  } finally {
    await app.stop()
  }
  const dead = await readRaw(dlq, 2)
  assert.deepEqual(
    dead.map((d) => Number(rawHeader(d.headers, 'seq'))).sort((a, b) => a - b),
    [10, 15],
  )
  assert.equal((await endOffsets(dlq, 1)).get(0), 2, 'each once')
})
