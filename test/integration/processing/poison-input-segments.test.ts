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
  createAdmin,
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

test('parallel segments whose dead letter topic is deleted while running: the record holds only its own segment; dead-lettered once the topic is back', async () => {
  const topic = await createTopic('poison-seg-gone', PARTITIONS)
  const dlq = await createTopic('poison-seg-gone-dlq', 1)
  // Key k<i % 30>, routed by the key; record 100 (partition 1, offset 33) fails.
  await produceRaw(
    topic,
    Array.from({ length: COUNT }, (_, i) => ({
      partition: i % PARTITIONS,
      key: Buffer.from(`k${i % 30}`),
      value: Buffer.from(JSON.stringify({ i })),
      headers: [[Buffer.from('seq'), Buffer.from(String(i))]],
    })),
  )
  const poison = 100
  const segment = (i: number) => defaultSegmentReducer(`k${i % 30}`, 3)
  const held = segment(poison)
  const origin = uniqueName('poison-seg-gone')
  const groups = segmentGroups(origin, 3)
  let reached!: () => void
  const atPoison = new Promise<void>((r) => (reached = r))
  let deleteDone!: () => void
  const deleted = new Promise<void>((r) => (deleteDone = r))
  const handled = new Map<number, number[]>()
  const errors: ErrorOccurredEvent[] = []
  const dispatched: string[] = []
  const app = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'poison-seg-gone', requestTimeoutMs: 2000 },
    logger: false,
  })
  app.consumerGroup(origin, (g) => {
    g.parallelSegments({ count: 3, partitioner: (r) => r.keyString })
    g.topic(topic, {
      deserializer: json<{ i: number }>(),
      processing: { style: 'continuous', ordering: 'key', commitIntervalMs: 100 },
      retries: { backoff: { initialMs: 50, maxMs: 200 } },
      deadLetterQueue: { topic: dlq, maxRetries: 0 },
      handler: async (r, ctx) => {
        const i = r.payload!.i
        if (i === poison) {
          // The topic goes away after the start check, before the record fails.
          reached()
          await deleted
          throw new Error(`record ${i} fails`)
        }
        handled.set(i, [...(handled.get(i) ?? []), ctx.consumerGroup.segmentId!])
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  app.on('dead_letter_queue.dispatched', (e) =>
    dispatched.push(`${e.consumerGroup}@${e.partition}:${e.offset}`),
  )
  await app.start()
  try {
    await atPoison
    const admin = createAdmin()
    try {
      await admin.deleteTopics({ topics: [dlq] })
      await waitUntil(async () => !(await admin.listTopics()).includes(dlq), {
        message: 'the dead letter topic is gone from the metadata',
      })
    } finally {
      await admin.close()
    }
    deleteDone()
    // The other segments end at the log end; the held one handles everything outside the record's lane.
    await waitCommittedAtEnd(
      groups.filter((_, s) => s !== held),
      topic,
      PARTITIONS,
    )
    const mayWait = (i: number) => segment(i) === held && i % PARTITIONS === 1 && i > poison
    const free = Array.from({ length: COUNT }, (_, i) => i).filter((i) => i !== poison && !mayWait(i))
    await waitUntil(() => free.every((i) => handled.has(i)), {
      timeoutMs: 60_000,
      message: 'the records outside the held lane handled',
    })
    await waitUntil(() => errors.some((e) => e.type === 'dead_letter_queue.dispatch.error'), {
      timeoutMs: 60_000,
      message: 'the failed dispatch reported',
    })
    const reported = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.equal(reported.consumerGroup, groups[held])
    assert.match(reported.error.message, /did not finish within 2000 ms|does not exist|unknown topic/i)
    await waitUntil(
      async () => (await committedOffsets(groups[held]!, topic, PARTITIONS)).get(1)?.offset === 33,
      {
        message: `segment ${held} committed up to the held record`,
      },
    )
    await new Promise((r) => setTimeout(r, 1000))
    assert.equal((await committedOffsets(groups[held]!, topic, PARTITIONS)).get(1)?.offset, 33, 'held there')
    const again = createAdmin()
    try {
      await again.createTopics({ topics: [dlq], partitions: 1, replicas: 1 })
    } finally {
      await again.close()
    }
    await waitUntil(() => dispatched.length === 1, {
      timeoutMs: 60_000,
      message: 'dead-lettered once the topic is back',
    })
    await waitCommittedAtEnd(groups, topic, PARTITIONS)
  } finally {
    await app.stop()
  }
  assert.deepEqual(dispatched, [`${groups[held]}@1:33`])
  for (let i = 0; i < COUNT; i++)
    if (i !== poison)
      assert.deepEqual(handled.get(i), [segment(i)], `record ${i} handled once, by its segment`)
  const [dead] = await readRaw(dlq, 1)
  assert.equal(rawHeader(dead!.headers, DLQ_HEADERS.consumerGroup)?.toString(), groups[held])
})
