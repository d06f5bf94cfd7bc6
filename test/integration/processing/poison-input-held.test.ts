// Poison input that holds a consumer group's partition: a handler that always throws without a
// dead letter queue (retried forever, reported), and a dead letter topic that refuses the record
// as too large (reported with the broker's reason, retried). The record holds its lane and its
// partition's commit, never passed; every other record — on the other partition, in other lanes —
// is handled exactly once and committed; a refused dead letter goes once the topic takes it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { ErrorOccurredEvent } from '../../../src/instrumentation/events.ts'
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
  produceRaw,
  rawHeader,
  readRaw,
  records,
  seqOf,
  setTopicConfig,
  successes,
} from '../../support/poison.ts'
import { waitCommittedAtEnd } from '../../support/segment-processing.ts'

const kafka = (clientId: string) => ({ bootstrap: bootstrapServers(), clientId })
const fast = { initialMs: 50, maxMs: 200 }

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

test('a dead letter topic deleted while running: the record is held and reported, the other partition and lanes flow; dead-lettered once the topic is back', async () => {
  const topic = await createTopic('poison-dlq-gone', 2)
  const dlq = await createTopic('poison-dlq-gone-dlq', 1)
  await produceRaw(topic, records(200, 2))
  const group = uniqueName('poison-dlq-gone')
  let reached!: () => void
  const atPoison = new Promise<void>((r) => (reached = r))
  let deleteDone!: () => void
  const deleted = new Promise<void>((r) => (deleteDone = r))
  const handled = successes()
  const errors: ErrorOccurredEvent[] = []
  const dispatched: number[] = []
  const app = createApp({ kafka: { ...kafka('poison-dlq-gone'), requestTimeoutMs: 2000 }, logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { style: 'continuous', ordering: 'key', commitIntervalMs: 100 },
      retries: { backoff: fast },
      deadLetterQueue: { topic: dlq, maxRetries: 0 },
      handler: async (record) => {
        if (seqOf(record) === 10) {
          // The topic goes away after the start check, before the record fails.
          reached()
          await deleted
          throw new Error('record 10 fails')
        }
        handled.add(seqOf(record))
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  app.on('dead_letter_queue.dispatched', (e) => dispatched.push(e.offset))
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
    const waiting = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 20 === 10 && i > 10)
    await waitUntil(() => handled.size === 199 - waiting.length, {
      timeoutMs: 60_000,
      message: 'the records of the other partition and lanes handled',
    })
    await waitUntil(async () => (await committedOffsets(group, topic, 2)).get(1)?.offset === 100, {
      message: 'partition 1 committed at its end',
    })
    await waitUntil(() => errors.some((e) => e.type === 'dead_letter_queue.dispatch.error'), {
      timeoutMs: 60_000,
      message: 'the failed dispatch reported',
    })
    const reported = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.equal(reported.offset, 5)
    assert.match(reported.error.message, /did not finish within 2000 ms|does not exist|unknown topic/i)
    await waitUntil(async () => (await committedOffsets(group, topic, 2)).get(0)?.offset === 5, {
      message: 'partition 0 committed up to the record',
    })
    // and no further, while the topic is gone
    await new Promise((r) => setTimeout(r, 1000))
    assert.equal(
      (await committedOffsets(group, topic, 2)).get(0)?.offset,
      5,
      'partition 0 held at the record',
    )
    const again = createAdmin()
    try {
      await again.createTopics({ topics: [dlq], partitions: 1, replicas: 1 })
    } finally {
      await again.close()
    }
    await waitUntil(() => dispatched.includes(5), {
      timeoutMs: 60_000,
      message: 'dead-lettered once the topic is back',
    })
    await waitUntil(() => handled.size === 199, { message: 'the records behind it handled' })
    await waitCommittedAtEnd([group], topic, 2)
  } finally {
    await app.stop()
  }
  const [dead] = await readRaw(dlq, 1)
  assert.equal(rawHeader(dead!.headers, 'seq')?.toString(), '10')
})
