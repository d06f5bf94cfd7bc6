// Parallel segments' routing on a real broker: every record is handled
// by exactly one segment, the one its routing names; keys keep their order within it; every
// segment commits at the log end (an idle one too); routing errors go to segment 0 only, with
// their events, reported once. Plus: multi-topic partitioners see `record.topic`, an origin
// name containing the merge key, `ctx.consumerGroup`, and filtered payloads never decoded.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { ErrorOccurredEvent } from '../../../src/instrumentation/events.ts'
import type { HandlerContext } from '../../../src/processing/handler-context.ts'
import type { ConsumedRecord } from '../../../src/processing/record.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import {
  bootstrapServers,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'
import {
  committedArray,
  countingJson,
  type KeyedValue,
  keyedRecord,
  segmentGroups,
  waitCommittedAtEnd,
} from '../../support/segment-processing.ts'

const kafka = () => ({ bootstrap: bootstrapServers(), clientId: 'segments-routing' })

interface Handled {
  segment: number
  group: string
  origin: string
  topic: string
  partition: number
  offset: number
  key: string
  seq: number
}

function handledBy(record: ConsumedRecord<KeyedValue | null>, ctx: HandlerContext): Handled {
  return {
    segment: ctx.consumerGroup.segmentId,
    group: ctx.consumerGroup.name,
    origin: ctx.consumerGroup.segmentOrigin,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.payload!.key,
    seq: record.payload!.seq,
  }
}

test('3 segments over 6 partitions, 1,000 keys: each record handled by exactly one segment, its own; keys in order; every segment committed at the log end', async () => {
  const KEYS = 1000
  const RECORDS = 6000
  const topic = await createTopic('seg-routing', 6)
  await produceRecords(topic, RECORDS, {
    partitions: 6,
    batchSize: 2000,
    record: (i) => keyedRecord(i, KEYS, 6),
  })
  const origin = uniqueName('seg-routing')
  const deserializer = countingJson<KeyedValue>()
  const handled: Handled[] = []
  const outOfOrder: string[] = []
  const lastSeq = new Map<string, number>()
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(origin, (g) => {
    g.parallelSegments({ count: 3, partitioner: (r) => r.keyString })
    g.topic(topic, {
      deserializer,
      processing: { style: 'continuous', capacity: 50, ordering: 'key', commitIntervalMs: 100 },
      virtualPartitions: { maxPartitions: 16 },
      handler: async (record, ctx) => {
        const h = handledBy(record, ctx)
        const previous = lastSeq.get(h.key) ?? -1
        if (h.seq !== previous + 1) outOfOrder.push(`${h.key}: ${previous} then ${h.seq}`)
        lastSeq.set(h.key, h.seq)
        handled.push(h)
        await new Promise<void>((resolve) => setImmediate(resolve))
      },
    })
  })
  await app.start()
  const groups = segmentGroups(origin, 3)
  try {
    await waitUntil(() => handled.length >= RECORDS, { timeoutMs: 90_000, message: `${RECORDS} handled` })
    await waitCommittedAtEnd(groups, topic, 6)
  } finally {
    await app.stop()
  }

  // Exactly once, by the segment its routing names.
  const byRecord = new Map<string, Handled[]>()
  for (const h of handled) {
    const id = `${h.partition}:${h.offset}`
    byRecord.set(id, [...(byRecord.get(id) ?? []), h])
  }
  assert.equal(byRecord.size, RECORDS, 'every record handled')
  const twice = [...byRecord].filter(([, hs]) => hs.length > 1).map(([id]) => id)
  assert.deepEqual(twice, [], 'no record handled twice (by one segment or by two)')
  const misrouted = handled.filter((h) => h.segment !== defaultSegmentReducer(h.key, 3))
  assert.deepEqual(misrouted, [], 'each record handled by reducer(partitioner(record), 3)')

  // A key lives in one segment, in order; every segment has a share of the keys.
  const segmentsOfKey = new Map<string, Set<number>>()
  for (const h of handled) segmentsOfKey.set(h.key, (segmentsOfKey.get(h.key) ?? new Set()).add(h.segment))
  assert.equal(segmentsOfKey.size, KEYS)
  assert.ok(
    [...segmentsOfKey.values()].every((s) => s.size === 1),
    'each key handled in one segment only',
  )
  assert.deepEqual(outOfOrder, [], 'per-key order within its segment')
  const keysPerSegment = [0, 1, 2].map((s) => [...segmentsOfKey.values()].filter((set) => set.has(s)).length)
  for (const n of keysPerSegment) assert.ok(n > 250 && n < 420, `keys per segment ${keysPerSegment}`)

  // ctx.consumerGroup: the Kafka group, the segment, the origin.
  for (const h of handled) {
    assert.equal(h.group, `${origin}-parallel-${h.segment}`)
    assert.equal(h.origin, origin)
  }

  // The payload was decoded once per record, by its own segment only.
  assert.equal(deserializer.total(), RECORDS, 'deserialized exactly once per record in all three segments')

  // Lag 0 in every segment (waitCommittedAtEnd), checked once more against the log end.
  const ends = await endOffsets(topic, 6)
  const atEnd = Array.from({ length: 6 }, (_, p) => ends.get(p))
  for (const g of groups) assert.deepEqual(await committedArray(g, topic, 6), atEnd, `${g} at the log end`)
})

for (const style of ['blocking', 'continuous'] as const) {
  test(`${style}: idle segments (every record filtered) commit at the log end: lag 0`, async () => {
    const topic = await createTopic(`seg-idle-${style}`, 3)
    await produceRecords(topic, 900, { partitions: 3 })
    const origin = uniqueName(`seg-idle-${style}`)
    // One routing value for every record: one segment gets everything, the other two nothing.
    const busy = defaultSegmentReducer('everything', 3)
    const handled = new Map<number, number>()
    const app = createApp({ kafka: kafka(), logger: false })
    app.consumerGroup(origin, (g) => {
      g.parallelSegments({ count: 3, partitioner: () => 'everything' })
      g.topic(topic, {
        processing: {
          style,
          capacity: 20,
          ordering: 'partition',
          maxPollRecords: 100,
          commitIntervalMs: 100,
        },
        handler: (_record, ctx) => {
          handled.set(ctx.consumerGroup.segmentId, (handled.get(ctx.consumerGroup.segmentId) ?? 0) + 1)
        },
      })
    })
    await app.start()
    try {
      await waitCommittedAtEnd(segmentGroups(origin, 3), topic, 3)
    } finally {
      await app.stop()
    }
    assert.deepEqual([...handled], [[busy, 900]], `only segment ${busy} handled records`)
  })
}

test('routing errors: a throwing partitioner or an invalid reducer result → segment 0 only, with its event, reported once', async () => {
  const topic = await createTopic('seg-errors', 2)
  // Record i: no `user` header when i % 10 === 3 (the partitioner throws); user "bad" when
  // i % 10 === 7 (the reducer returns 99); otherwise user-<i % 50>.
  const records = await produceRecords(topic, 400, {
    partitions: 2,
    record: (i) => ({
      key: `k${i}`,
      value: `v${i}`,
      partition: i % 2,
      headers: (i % 10 === 3
        ? { seq: String(i) }
        : { seq: String(i), user: i % 10 === 7 ? 'bad' : `user-${i % 50}` }) as Record<string, string>,
    }),
  })
  const origin = uniqueName('seg-errors')
  const handled = new Map<string, number[]>()
  const errors: ErrorOccurredEvent[] = []
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(origin, (g) => {
    g.parallelSegments({
      count: 3,
      partitioner: (r) => {
        const user = r.headers.get('user')
        if (user === undefined) throw new Error(`no user header at ${r.partition}:${r.offset}`)
        return user
      },
      reducer: (value, count) => (value === 'bad' ? 99 : defaultSegmentReducer(value, count)),
    })
    g.topic(topic, {
      processing: { style: 'continuous', ordering: 'unordered', commitIntervalMs: 100 },
      handler: (record, ctx) => {
        const seq = record.headers.get('seq')!
        handled.set(seq, [...(handled.get(seq) ?? []), ctx.consumerGroup.segmentId])
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  await app.start()
  try {
    await waitUntil(() => handled.size === 400, { timeoutMs: 60_000, message: '400 handled' })
    await waitCommittedAtEnd(segmentGroups(origin, 3), topic, 2)
  } finally {
    await app.stop()
  }

  for (const [seq, segments] of handled) {
    const i = Number(seq)
    const expected = i % 10 === 3 || i % 10 === 7 ? 0 : defaultSegmentReducer(`user-${i % 50}`, 3)
    assert.deepEqual(segments, [expected], `record ${i} handled once, by segment ${expected}`)
  }
  const routingErrors = errors.filter((e) => e.type.startsWith('parallel_segments.'))
  const where = (e: ErrorOccurredEvent) => `${e.partition}:${e.offset}`
  const expectedAt = (rest: number) =>
    records.flatMap((r, i) => (i % 10 === rest ? [`${r.partition}:${Math.floor(i / 2)}`] : [])).sort()
  const partitionerErrors = routingErrors.filter((e) => e.type === 'parallel_segments.partitioner.error')
  const reducerErrors = routingErrors.filter((e) => e.type === 'parallel_segments.reducer.error')
  assert.equal(partitionerErrors.length + reducerErrors.length, routingErrors.length)
  assert.deepEqual(partitionerErrors.map(where).sort(), expectedAt(3), 'one partitioner.error per record')
  assert.deepEqual(reducerErrors.map(where).sort(), expectedAt(7), 'one reducer.error per record')
  for (const e of routingErrors) {
    assert.equal(e.consumerGroup, `${origin}-parallel-0`, 'reported by segment 0, the one that processes it')
    assert.equal(e.topic, topic)
  }
  assert.match(partitionerErrors[0]!.error.message, /^no user header at /)
  assert.equal(reducerErrors[0]!.error.message, 'reducer returned 99; expected an integer in [0, 3)')
  assert.equal(errors.filter((e) => !e.type.startsWith('parallel_segments.')).length, 0, 'no other errors')
})

test('a multi-topic partitioner sees record.topic; an origin containing the merge key works (ids stored, not parsed)', async () => {
  const orders = await createTopic('seg-orders', 2)
  const users = await createTopic('seg-users', 2)
  // Header and key route differently for most records, so a partitioner ignoring the topic is caught.
  const make = (i: number) => ({
    key: `key-${i}`,
    value: `v${i}`,
    partition: i % 2,
    headers: { seq: String(i), order: `order-${i % 37}` },
  })
  await produceRecords(orders, 300, { partitions: 2, record: make })
  await produceRecords(users, 300, { partitions: 2, record: make })
  // Contains the merge key: Karafka would read segment "x-…" of origin "team" from these names.
  const origin = uniqueName('team-parallel-x')
  const handled: Array<{ topic: string; seq: number; segment: number; name: string; origin: string }> = []
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(origin, (g) => {
    g.parallelSegments({
      count: 4,
      partitioner: (r) => (r.topic === orders ? r.headers.get('order') : r.keyString),
    })
    for (const topic of [orders, users]) {
      g.topic(topic, {
        processing: { style: 'continuous', ordering: 'unordered', commitIntervalMs: 100 },
        handler: (record, ctx) => {
          handled.push({
            topic: record.topic,
            seq: Number(record.headers.get('seq')),
            segment: ctx.consumerGroup.segmentId,
            name: ctx.consumerGroup.name,
            origin: ctx.consumerGroup.segmentOrigin,
          })
        },
      })
    }
  })
  await app.start()
  const groups = segmentGroups(origin, 4)
  try {
    await waitUntil(() => handled.length >= 600, { timeoutMs: 60_000, message: '600 handled' })
    await waitCommittedAtEnd(groups, orders, 2)
    await waitCommittedAtEnd(groups, users, 2)
  } finally {
    await app.stop()
  }
  assert.equal(handled.length, 600, 'each record once')
  let differ = 0
  for (const h of handled) {
    const byOrder = defaultSegmentReducer(`order-${h.seq % 37}`, 4)
    const byKey = defaultSegmentReducer(`key-${h.seq}`, 4)
    if (byOrder !== byKey) differ++
    assert.equal(h.segment, h.topic === orders ? byOrder : byKey, `${h.topic} ${h.seq}`)
    assert.equal(h.name, `${origin}-parallel-${h.segment}`)
    assert.equal(h.origin, origin, 'segmentOrigin is the defined name, merge key and all')
  }
  assert.ok(differ > 200, `the two routings differ for most records (${differ})`)
  assert.deepEqual(
    [...new Set(handled.map((h) => h.segment))].sort(),
    [0, 1, 2, 3],
    'every segment id in use',
  )
})

test('a payload partitioner decodes every record in every segment (the slow path); an undecodable one goes to segment 0, whose handler gets the deserialization error', async () => {
  const topic = await createTopic('seg-payload', 1)
  const dlqTopic = await createTopic('seg-payload-dlq', 1)
  const bad = new Set([5, 17, 29])
  await produceRecords(topic, 60, {
    partitions: 1,
    record: (i) => ({
      key: `k${i}`,
      value: bad.has(i) ? '{not json' : JSON.stringify({ key: `user-${i % 7}`, seq: i }),
      partition: 0,
      headers: {},
    }),
  })
  const origin = uniqueName('seg-payload')
  const deserializer = countingJson<KeyedValue>()
  const handled = new Map<number, number>()
  const errors: ErrorOccurredEvent[] = []
  const dispatched: number[] = []
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(origin, (g) => {
    g.parallelSegments({ count: 2, partitioner: (r) => (r.payload as KeyedValue).key })
    g.topic(topic, {
      deserializer,
      processing: { style: 'continuous', ordering: 'partition', commitIntervalMs: 100 },
      retries: { backoff: { initialMs: 10, maxMs: 10, exponential: false } },
      deadLetterQueue: { topic: dlqTopic, maxRetries: 1 },
      handler: (record, ctx) => {
        const value = record.payload!
        handled.set(value.seq, ctx.consumerGroup.segmentId)
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  app.on('dead_letter_queue.dispatched', (e) => dispatched.push(e.offset))
  await app.start()
  try {
    await waitCommittedAtEnd(segmentGroups(origin, 2), topic, 1)
  } finally {
    await app.stop()
  }
  assert.equal(handled.size, 57)
  for (const [seq, segment] of handled) assert.equal(segment, defaultSegmentReducer(`user-${seq % 7}`, 2))
  assert.deepEqual(
    dispatched.sort((a, b) => a - b),
    [...bad],
    'the undecodable records, dead-lettered by segment 0',
  )
  for (let o = 0; o < 60; o++) {
    assert.equal(
      deserializer.calls.get(`0:${o}`),
      2,
      `record ${o} decoded once per segment (cached for its handler)`,
    )
  }
  const of = (type: string) => errors.filter((e) => e.type === type)
  assert.deepEqual(
    of('parallel_segments.partitioner.error').map((e) => [e.consumerGroup, e.offset]),
    [...bad].map((o) => [`${origin}-parallel-0`, o]),
  )
  const failed = of('consumer.deserializer.error')
  assert.deepEqual(
    [...new Set(failed.map((e) => e.offset))].sort((a, b) => a! - b!),
    [...bad],
  )
  assert.ok(failed.every((e) => e.consumerGroup === `${origin}-parallel-0`))
})
