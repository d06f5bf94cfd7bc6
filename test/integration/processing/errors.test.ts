// A handler that keeps failing on chosen records: retried with backoff, then dead-lettered
// with the source headers, while every other record is processed and the partition goes on.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { DLQ_HEADERS } from '../../../src/processing/dead-letter-queue.ts'
import { string } from '../../../src/processing/deserializers.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'

class PoisonError extends Error {
  override name = 'PoisonError'
}

test('failing records are retried with backoff, then dead-lettered with source headers; the rest flows', async () => {
  const topic = await createTopic('dlq-source', 2)
  const dlqTopic = await createTopic('dlq-target', 1)
  await produceRecords(topic, 400, { partitions: 2 })
  const poison = new Set(['0:10', '1:50', '1:51'])
  const attempts = new Map<string, number[]>()
  const processed = new Set<string>()
  const errors: Array<{ type: string; attempt?: number }> = []
  const group = uniqueName('dlq')
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'dlq' }, logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      deserializer: string(),
      processing: { style: 'continuous', ordering: 'partition', commitIntervalMs: 100 },
      retries: { backoff: { initialMs: 100, maxMs: 1000, exponential: true } },
      deadLetterQueue: { topic: dlqTopic, maxRetries: 2 },
      handler: async (record, ctx) => {
        const id = `${record.partition}:${record.offset}`
        attempts.set(id, [...(attempts.get(id) ?? []), Date.now()])
        assert.equal(ctx.attempt, attempts.get(id)!.length)
        if (poison.has(id)) throw new PoisonError(`cannot handle ${id}`)
        processed.add(id)
      },
    })
  })
  app.on('error.occurred', (e) => errors.push({ type: e.type, attempt: e.attempt }))
  const dispatched: number[] = []
  app.on('dead_letter_queue.dispatched', (e) => dispatched.push(e.offset))
  await app.start()
  try {
    await waitUntil(() => processed.size === 397 && dispatched.length === 3, {
      timeoutMs: 60_000,
      message: '397 processed + 3 dead-lettered',
    })
    await waitUntil(
      async () => {
        const c = await committedOffsets(group, topic, 2)
        const e = await endOffsets(topic, 2)
        return c.get(0)?.offset === e.get(0) && c.get(1)?.offset === e.get(1)
      },
      { message: 'committed past the dead-lettered records' },
    )
  } finally {
    await app.stop()
  }

  for (const id of poison) {
    const times = attempts.get(id)!
    assert.equal(times.length, 3, `${id}: tried once and retried twice`)
    // Backoff 100 ms, then 200 ms (a little timer slack allowed).
    assert.ok(times[1]! - times[0]! >= 90, `${id}: first retry after ${times[1]! - times[0]!} ms`)
    assert.ok(times[2]! - times[1]! >= 190, `${id}: second retry after ${times[2]! - times[1]!} ms`)
  }
  assert.equal(errors.filter((e) => e.type === 'consumer.handler.error').length, 9)

  const dead = await readRecords(dlqTopic, 3)
  const byOffset = new Map(
    dead.map((r) => [`${r.headers[DLQ_HEADERS.partition]}:${r.headers[DLQ_HEADERS.offset]}`, r]),
  )
  assert.deepEqual([...byOffset.keys()].sort(), [...poison].sort())
  for (const [id, r] of byOffset) {
    const offset = Number(id.split(':')[1])
    assert.equal(r.value, `v${r.headers.seq}`, 'original value')
    assert.equal(r.key, `k${Number(r.headers.seq) % 100}`, 'original key')
    assert.ok(r.headers.seq !== undefined, 'original headers kept')
    assert.equal(r.headers[DLQ_HEADERS.topic], topic)
    assert.equal(Number(r.headers[DLQ_HEADERS.offset]), offset)
    assert.equal(r.headers[DLQ_HEADERS.consumerGroup], group)
    assert.equal(r.headers[DLQ_HEADERS.attempts], '3')
    assert.equal(r.headers[DLQ_HEADERS.errorName], 'PoisonError')
    assert.equal(r.headers[DLQ_HEADERS.errorMessage], `cannot handle ${id}`)
  }
})

test('independent: false counts failures per lane across records (Karafka parity)', async () => {
  const topic = await createTopic('dlq-lane', 1)
  const dlqTopic = await createTopic('dlq-lane-target', 1)
  await produceRecords(topic, 3, { partitions: 1 })
  // Offset 0 fails twice then succeeds; offset 1 fails always; offset 2 is fine.
  const tries = new Map<number, number>()
  const dispatched: Array<{ offset: number; attempts: number }> = []
  const handled: number[] = []
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'dlq-lane' }, logger: false })
  app.consumerGroup(uniqueName('dlq-lane'), (g) => {
    g.topic(topic, {
      processing: { ordering: 'partition' },
      retries: { backoff: { initialMs: 20, maxMs: 50, exponential: false } },
      deadLetterQueue: { topic: dlqTopic, maxRetries: 2, independent: false },
      handler: async (record) => {
        const n = (tries.get(record.offset) ?? 0) + 1
        tries.set(record.offset, n)
        if ((record.offset === 0 && n <= 2) || record.offset === 1) throw new Error(`fail ${record.offset}`)
        handled.push(record.offset)
      },
    })
  })
  app.on('dead_letter_queue.dispatched', (e) => dispatched.push({ offset: e.offset, attempts: e.attempts }))
  await app.start()
  try {
    await waitUntil(() => handled.length === 2 && dispatched.length === 1, {
      timeoutMs: 30_000,
      message: 'lane done',
    })
  } finally {
    await app.stop()
  }
  assert.deepEqual(handled, [0, 2])
  // The lane had 2 failures (offset 0) before offset 1 failed: its first failure is the third → dispatched.
  assert.deepEqual(dispatched, [{ offset: 1, attempts: 1 }])
  assert.equal(tries.get(1), 1)
})
