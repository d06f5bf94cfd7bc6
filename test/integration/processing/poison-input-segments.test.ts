// Poison input in parallel segments: a partitioner that throws, a reducer answering NaN, a routing
// key that is not UTF-8, undeserializable payloads, a handler that always throws, a record larger
// than the fetch size and a dead letter topic that refuses a record as too large, all in one
// segmented group. Routing errors go
// to segment 0; failures are retried and dead-lettered by the record's own segment; a record the
// dead letter topic refuses holds only its segment's partition. Every other record is handled
// exactly once, by its segment, and every segment group commits at the log end.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { ErrorOccurredEvent } from '../../../src/instrumentation/events.ts'
import { DLQ_HEADERS } from '../../../src/processing/dead-letter-queue.ts'
import { json } from '../../../src/processing/deserializers.ts'
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
import { segmentGroups, waitCommittedAtEnd } from '../../support/segment-processing.ts'

const COUNT = 300
const PARTITIONS = 3
const NOT_JSON = new Set([40, 140])
const FAILS = 90
const TOO_LARGE = 190 // partition 1, offset 63: fails, and is over the dead letter topic's limit
const LARGE = 250 // 2 MiB: over the 1 MiB a member fetches per partition; handled

/** The `user` header of record i: none (the partitioner throws), "nan" (the reducer answers NaN), bytes that are not UTF-8, or user-<i % 30>. */
function user(i: number): Buffer | undefined {
  if (i % 25 === 3) return undefined
  if (i % 25 === 7) return Buffer.from('nan')
  if (i % 25 === 11) return INVALID_UTF8
  return Buffer.from(`user-${i % 30}`)
}

function segmentOf(i: number): number {
  const u = user(i)
  if (u === undefined || u.toString() === 'nan') return 0
  // As the partitioner reads it: the header as text, U+FFFD for the invalid bytes.
  return defaultSegmentReducer(u.toString('utf8'), 3)
}

function record(i: number): RawRecord {
  const u = user(i)
  let value = Buffer.from(JSON.stringify({ i }))
  if (NOT_JSON.has(i)) value = Buffer.from('not json')
  if (i === TOO_LARGE) value = Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(16 * 1024) }))
  if (i === LARGE) value = Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(2 * 1024 * 1024) }))
  return {
    partition: i % PARTITIONS,
    key: Buffer.from(`k${i}`),
    value,
    headers: [
      [Buffer.from('seq'), Buffer.from(String(i))],
      ...(u ? [[Buffer.from('user'), u] as [Buffer, Buffer]] : []),
    ],
  }
}

test('parallel segments under poison input: routing errors to segment 0, failures dead-lettered by their own segment, a refused dead letter holds only its segment', async () => {
  const topic = await createTopic('poison-seg', PARTITIONS, { 'max.message.bytes': String(4 * 1024 * 1024) })
  const dlq = await createTopic('poison-seg-dlq', 1, { 'max.message.bytes': '4096' })
  await produceRaw(
    topic,
    Array.from({ length: COUNT }, (_, i) => record(i)),
    50,
  )
  const origin = uniqueName('poison-seg')
  const groups = segmentGroups(origin, 3)
  const failing = new Set([...NOT_JSON, FAILS, TOO_LARGE])
  const handled = new Map<number, number[]>()
  const errors: ErrorOccurredEvent[] = []
  const dispatched = new Map<number, string>()
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'poison-seg' }, logger: false })
  app.consumerGroup(origin, (g) => {
    g.parallelSegments({
      count: 3,
      partitioner: (r) => {
        const u = r.headers.get('user')
        if (u === undefined) throw new Error(`no user header at ${r.partition}:${r.offset}`)
        return u
      },
      reducer: (value, count) => (value === 'nan' ? Number.NaN : defaultSegmentReducer(value, count)),
    })
    g.topic(topic, {
      deserializer: json<{ i: number }>(),
      processing: { style: 'continuous', ordering: 'key', commitIntervalMs: 100 },
      retries: { backoff: { initialMs: 50, maxMs: 200 } },
      deadLetterQueue: { topic: dlq, maxRetries: 1 },
      handler: (r, ctx) => {
        const i = r.payload!.i
        if (i === FAILS || i === TOO_LARGE) throw new Error(`record ${i} fails`)
        handled.set(i, [...(handled.get(i) ?? []), ctx.consumerGroup.segmentId!])
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  app.on('dead_letter_queue.dispatched', (e) =>
    dispatched.set(e.partition * 1000 + e.offset, e.consumerGroup),
  )
  await app.start()
  const held = segmentOf(TOO_LARGE)
  try {
    // Everything but what may share the held record's lane (its segment, partition 1, after it).
    const mayWait = (i: number) => segmentOf(i) === held && i % PARTITIONS === 1 && i > TOO_LARGE
    const free = Array.from({ length: COUNT }, (_, i) => i).filter((i) => !failing.has(i) && !mayWait(i))
    await waitUntil(() => free.every((i) => handled.has(i)) && dispatched.size === 3, {
      timeoutMs: 60_000,
      message: 'the records outside the held lane handled, 3 dead-lettered',
    }).catch((error: Error) => {
      throw new Error(
        `${error.message}: missing ${free.filter((i) => !handled.has(i)).join(', ')}, dead-lettered ${[...dispatched.keys()].join(', ')}`,
      )
    })
    // The other segments filter the held record out: they commit at the log end.
    await waitCommittedAtEnd(
      groups.filter((_, s) => s !== held),
      topic,
      PARTITIONS,
    )
    await waitUntil(() => errors.some((e) => e.type === 'dead_letter_queue.dispatch.error'), {
      message: 'the refused dead letter reported',
    })
    const refused = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.equal(refused.consumerGroup, groups[held])
    assert.match(refused.error.message, /MESSAGE_TOO_LARGE/)
    await waitUntil(
      async () => (await committedOffsets(groups[held]!, topic, PARTITIONS)).get(1)?.offset === 63,
      {
        message: `segment ${held} committed up to the held record`,
      },
    )
    await new Promise((r) => setTimeout(r, 1000))
    assert.equal((await committedOffsets(groups[held]!, topic, PARTITIONS)).get(1)?.offset, 63, 'held there')
    await setTopicConfig(dlq, 'max.message.bytes', String(1024 * 1024))
    await waitUntil(() => dispatched.size === 4, { timeoutMs: 60_000, message: 'dead-lettered once it fits' })
    await waitUntil(() => handled.size === COUNT - failing.size, { message: 'the records behind it handled' })
    await waitCommittedAtEnd(groups, topic, PARTITIONS)
  } finally {
    await app.stop()
  }

  for (let i = 0; i < COUNT; i++) {
    if (failing.has(i)) assert.ok(!handled.has(i), `record ${i} never succeeded`)
    else
      assert.deepEqual(handled.get(i), [segmentOf(i)], `record ${i} handled once, by segment ${segmentOf(i)}`)
  }
  // Dead-lettered once each, by the record's own segment.
  const dead = await readRaw(dlq, 4)
  assert.equal((await endOffsets(dlq, 1)).get(0), 4)
  for (const d of dead) {
    const i = Number(rawHeader(d.headers, 'seq'))
    assert.ok(failing.has(i), `record ${i} dead-lettered`)
    assert.equal(rawHeader(d.headers, DLQ_HEADERS.consumerGroup)?.toString(), groups[segmentOf(i)])
    const name = rawHeader(d.headers, DLQ_HEADERS.errorName)?.toString()
    assert.equal(name, NOT_JSON.has(i) ? 'DeserializationError' : 'Error')
  }
  assert.deepEqual([...dispatched.values()].sort(), [...failing].map((i) => groups[segmentOf(i)]!).sort())
  // Routing errors: one per record, by segment 0; deserialization errors: two attempts each.
  const byType = (type: string) => errors.filter((e) => e.type === type)
  const expected = (rest: number) =>
    Array.from({ length: COUNT }, (_, i) => i).filter((i) => i % 25 === rest).length
  assert.equal(byType('parallel_segments.partitioner.error').length, expected(3))
  assert.equal(byType('parallel_segments.reducer.error').length, expected(7))
  for (const e of errors.filter((e) => e.type.startsWith('parallel_segments.')))
    assert.equal(e.consumerGroup, groups[0])
  assert.equal(byType('consumer.deserializer.error').length, 2 * NOT_JSON.size)
  assert.equal(byType('consumer.handler.error').length, 2 * 2)
  const known = new Set([
    'parallel_segments.partitioner.error',
    'parallel_segments.reducer.error',
    'consumer.deserializer.error',
    'consumer.handler.error',
    'dead_letter_queue.dispatch.error',
  ])
  assert.deepEqual(
    errors.filter((e) => !known.has(e.type)).map((e) => e.type),
    [],
    'no other errors',
  )
})
