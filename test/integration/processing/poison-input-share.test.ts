// Poison input in a share group: a partitioner that throws, a reducer answering NaN, headers that
// are not UTF-8, undeserializable payloads, a handler that always throws, a 3 MiB record (and,
// on a member asking for 64 KiB per fetch, a record larger than the fetch size), a dead letter
// topic that refuses a record as too large. Routing errors send
// the record to lane 0; failures are retried locally, dead-lettered and rejected; a record the
// dead letter topic refuses stays locked, unacknowledged, until it fits — never rejected
// unwritten. Every other record is accepted exactly once and the group's lag reaches 0.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeShareGroup } from '../../../src/admin/share.ts'
import { createApp } from '../../../src/app/app.ts'
import type { ErrorOccurredEvent } from '../../../src/instrumentation/events.ts'
import { DLQ_HEADERS } from '../../../src/processing/dead-letter-queue.ts'
import { json } from '../../../src/processing/deserializers.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import { createAdmin, createTopic, endOffsets, waitUntil } from '../../support/kafka.ts'
import {
  INVALID_UTF8,
  produceRaw,
  type RawRecord,
  rawHeader,
  readRaw,
  setTopicConfig,
} from '../../support/poison.ts'
import {
  createShareMember,
  kafkaOptions,
  ShareWorker,
  shareGroup,
  shareTestApp,
} from '../../support/share.ts'

/** The broker's lag of each partition of the group (null: not known yet). */
async function lags(group: string, partitions: number): Promise<Array<number | null>> {
  const d = await describeShareGroup(kafkaOptions(), group)
  return Array.from(
    { length: partitions },
    (_, p) => d.partitions.find((x) => x.partition === p)?.lag ?? null,
  )
}

function plain(i: number, partitions: number): RawRecord {
  return {
    partition: i % partitions,
    key: Buffer.from(`k${i % 20}`),
    value: Buffer.from(JSON.stringify({ i })),
    headers: [[Buffer.from('seq'), Buffer.from(String(i))]],
  }
}

test('a share group under poison input: lane 0 for routing errors, dead-lettered and rejected failures, a 3 MiB record accepted; every other record accepted once', async () => {
  const topic = await createTopic('poison-share', 2, { 'max.message.bytes': String(4 * 1024 * 1024) })
  const dlq = await createTopic('poison-share-dlq', 1)
  const group = await shareGroup('poison-share')
  const notJson = new Set([40, 141])
  const fails = 90
  const large = 121
  const badName = Buffer.concat([Buffer.from('x-'), INVALID_UTF8])
  await produceRaw(
    topic,
    Array.from({ length: 200 }, (_, i) => {
      const r = plain(i, 2)
      if (i % 25 === 7) r.headers.push([Buffer.from('user'), Buffer.from('nan')])
      else if (i % 25 === 11) r.headers.push([Buffer.from('user'), INVALID_UTF8], [badName, INVALID_UTF8])
      else if (i % 25 !== 3) r.headers.push([Buffer.from('user'), Buffer.from(`user-${i % 9}`)])
      if (notJson.has(i)) r.value = Buffer.from('not json')
      if (i === large) r.value = Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(3 * 1024 * 1024) }))
      return r
    }),
    10,
  )
  const failing = new Set([...notJson, fails])
  const accepted = new Map<number, number>()
  const errors: ErrorOccurredEvent[] = []
  const rejected: number[] = []
  const app = shareTestApp('poison-share')
  app.shareGroup(group, (g) =>
    g.topic(topic, {
      deserializer: json<{ i: number }>(),
      processing: { style: 'continuous', ordering: 'key' },
      virtualPartitions: {
        partitioner: (r) => {
          const u = r.headers.get('user')
          if (u === undefined) throw new Error(`no user header at ${r.partition}:${r.offset}`)
          return u
        },
        reducer: (value, count) => (value === 'nan' ? Number.NaN : defaultSegmentReducer(value, count)),
        maxPartitions: 8,
      },
      retries: { maxRetries: 1, backoff: { initialMs: 50, maxMs: 200 } },
      deadLetterQueue: { topic: dlq },
      handler: (record) => {
        const i = record.payload!.i
        if (i % 25 === 11) assert.equal(record.headers.get('user'), INVALID_UTF8.toString('utf8'))
        if (i === fails) throw new Error(`record ${i} fails`)
        accepted.set(i, (accepted.get(i) ?? 0) + 1)
      },
    }),
  )
  app.on('error.occurred', (e) => errors.push(e))
  app.on('share.rejected', (e) => rejected.push(e.partition * 1000 + e.offset))
  await app.start()
  try {
    await waitUntil(() => accepted.size === 200 - failing.size && rejected.length === failing.size, {
      timeoutMs: 90_000,
      message: `${200 - failing.size} accepted, ${failing.size} rejected`,
    })
    await waitUntil(async () => (await lags(group, 2)).every((l) => l === 0), {
      timeoutMs: 60_000,
      message: 'lag 0 on both partitions',
    })
  } finally {
    await app.stop()
  }
  for (const [i, n] of accepted) assert.equal(n, 1, `record ${i} handled to success once`)
  for (const i of failing) assert.ok(!accepted.has(i))
  assert.deepEqual(
    rejected.sort((a, b) => a - b),
    [...failing].map((i) => (i % 2) * 1000 + Math.floor(i / 2)).sort((a, b) => a - b),
  )
  const dead = await readRaw(dlq, failing.size)
  assert.equal((await endOffsets(dlq, 1)).get(0), failing.size, 'each dead-lettered once')
  for (const d of dead) {
    const i = Number(rawHeader(d.headers, 'seq'))
    assert.ok(failing.has(i))
    assert.equal(
      rawHeader(d.headers, DLQ_HEADERS.errorName)?.toString(),
      notJson.has(i) ? 'DeserializationError' : 'Error',
    )
  }
  const count = (type: string) => errors.filter((e) => e.type === type).length
  const withRest = (rest: number) =>
    Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 25 === rest).length
  assert.equal(
    count('virtual_partitions.partitioner.error'),
    withRest(3),
    'one per record without the header',
  )
  assert.equal(
    count('virtual_partitions.reducer.error'),
    withRest(7),
    'one per record the reducer answers NaN for',
  )
  assert.equal(count('consumer.deserializer.error'), 2 * notJson.size)
  assert.equal(count('consumer.handler.error'), 2)
  assert.equal(errors.length, withRest(3) + withRest(7) + 2 * notJson.size + 2, 'no other errors')
})

test('a share group whose dead letter topic refuses a record as too large: held unacknowledged and reported, the rest accepted; dead-lettered and rejected once it fits', async () => {
  const topic = await createTopic('poison-share-dlq-size', 2, { 'max.message.bytes': String(1024 * 1024) })
  const dlq = await createTopic('poison-share-dlq-size-dlq', 1, { 'max.message.bytes': '4096' })
  const group = await shareGroup('poison-share-dlq-size')
  // Record 10 (partition 0, offset 5) is 16 KiB and fails; record 15 (partition 1, offset 7) fails small.
  await produceRaw(
    topic,
    Array.from({ length: 100 }, (_, i) => {
      const r = plain(i, 2)
      if (i === 10) r.value = Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(16 * 1024) }))
      return r
    }),
  )
  const accepted = new Set<number>()
  const errors: ErrorOccurredEvent[] = []
  const rejected: number[] = []
  const app = shareTestApp('poison-share-dlq-size')
  app.shareGroup(group, (g) =>
    g.topic(topic, {
      deserializer: json<{ i: number }>(),
      processing: { style: 'continuous' },
      retries: { maxRetries: 0, backoff: { initialMs: 50, maxMs: 200 } },
      deadLetterQueue: { topic: dlq },
      handler: (record) => {
        const i = record.payload!.i
        if (i === 10 || i === 15) throw new Error(`record ${i} fails`)
        assert.ok(!accepted.has(i), `record ${i} twice`)
        accepted.add(i)
      },
    }),
  )
  app.on('error.occurred', (e) => errors.push(e))
  app.on('share.rejected', (e) => rejected.push(e.offset))
  await app.start()
  try {
    await waitUntil(() => accepted.size === 98 && rejected.includes(7), {
      timeoutMs: 60_000,
      message: '98 accepted, record 15 rejected',
    })
    await waitUntil(() => errors.filter((e) => e.type === 'dead_letter_queue.dispatch.error').length >= 2, {
      message: 'the refused dead letter reported, and retried',
    })
    const refused = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.equal(refused.offset, 5)
    assert.match(refused.error.message, /MESSAGE_TOO_LARGE/)
    await waitUntil(async () => (await lags(group, 2)).join() === '1,0', {
      message: 'partition 0: only the held record unacknowledged; partition 1: lag 0',
    })
    assert.deepEqual(rejected, [7], 'the held record is not rejected unwritten')
    await setTopicConfig(dlq, 'max.message.bytes', String(1024 * 1024))
    await waitUntil(() => rejected.includes(5), { timeoutMs: 60_000, message: 'rejected once dead-lettered' })
    await waitUntil(async () => (await lags(group, 2)).join() === '0,0', { message: 'lag 0' })
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

test('a share member whose fetch size is below a record still gets the record whole, and those after it', async () => {
  const topic = await createTopic('poison-share-fetch', 1, { 'max.message.bytes': String(4 * 1024 * 1024) })
  const group = await shareGroup('poison-share-fetch')
  await produceRaw(
    topic,
    Array.from({ length: 30 }, (_, i) => {
      const r = plain(i, 1)
      if (i === 10) r.value = Buffer.alloc(2 * 1024 * 1024, 'x')
      return r
    }),
    5,
  )
  const { consumer } = createShareMember({ groupId: group, topics: [topic], maxBytes: 64 * 1024 })
  await consumer.start()
  const worker = new ShareWorker(consumer)
  try {
    await waitUntil(() => worker.applied('accept').length === 30, {
      timeoutMs: 60_000,
      message: '30 accepted',
    })
  } finally {
    await worker.stop()
  }
  assert.deepEqual(
    worker.applied('accept').sort((a, b) => a - b),
    Array.from({ length: 30 }, (_, i) => i),
  )
  assert.equal(worker.deliveries.find((r) => r.offset === 10)?.value?.length, 2 * 1024 * 1024, 'whole')
})

test('a share group whose dead letter topic is deleted while running: the record is held unacknowledged and reported, the rest accepted; rejected once the topic is back', async () => {
  const topic = await createTopic('poison-share-dlq-gone', 2)
  const dlq = await createTopic('poison-share-dlq-gone-dlq', 1)
  const group = await shareGroup('poison-share-dlq-gone')
  await produceRaw(
    topic,
    Array.from({ length: 100 }, (_, i) => plain(i, 2)),
  )
  let reached!: () => void
  const atPoison = new Promise<void>((r) => (reached = r))
  let deleteDone!: () => void
  const deleted = new Promise<void>((r) => (deleteDone = r))
  const accepted = new Set<number>()
  const errors: ErrorOccurredEvent[] = []
  const rejected: number[] = []
  const app = createApp({
    // The least a share group allows (maxWaitMs + 5 s): a dispatch to the deleted topic times out.
    kafka: { ...kafkaOptions('poison-share-dlq-gone'), requestTimeoutMs: 6000 },
    logger: false,
    statisticsIntervalMs: 0,
  })
  app.shareGroup(group, (g) =>
    g.topic(topic, {
      processing: { style: 'continuous' },
      retries: { maxRetries: 0, backoff: { initialMs: 50, maxMs: 200 } },
      deadLetterQueue: { topic: dlq },
      handler: async (record) => {
        const i = Number(record.headers.get('seq'))
        if (i === 10) {
          reached()
          await deleted
          throw new Error('record 10 fails')
        }
        assert.ok(!accepted.has(i), `record ${i} twice`)
        accepted.add(i)
      },
    }),
  )
  app.on('error.occurred', (e) => errors.push(e))
  app.on('share.rejected', (e) => rejected.push(e.offset))
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
    await waitUntil(() => accepted.size === 99, { timeoutMs: 60_000, message: '99 accepted' })
    await waitUntil(() => errors.some((e) => e.type === 'dead_letter_queue.dispatch.error'), {
      timeoutMs: 60_000,
      message: 'the failed dispatch reported',
    })
    const reported = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.equal(reported.offset, 5)
    assert.match(reported.error.message, /did not finish within 6000 ms|does not exist|unknown topic/i)
    await waitUntil(async () => (await lags(group, 2)).join() === '1,0', {
      message: 'partition 0: only the held record unacknowledged; partition 1: lag 0',
    })
    assert.equal(rejected.length, 0, 'not rejected unwritten')
    const again = createAdmin()
    try {
      await again.createTopics({ topics: [dlq], partitions: 1, replicas: 1 })
    } finally {
      await again.close()
    }
    await waitUntil(() => rejected.includes(5), { timeoutMs: 60_000, message: 'rejected once dead-lettered' })
    await waitUntil(async () => (await lags(group, 2)).join() === '0,0', { message: 'lag 0' })
  } finally {
    await app.stop()
  }
  const [dead] = await readRaw(dlq, 1)
  assert.equal(rawHeader(dead!.headers, 'seq')?.toString(), '10')
})
