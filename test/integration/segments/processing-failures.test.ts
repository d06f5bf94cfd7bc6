// Retries, the dead letter queue and manual offsets with parallel segments, on a real broker:
// a failing record is retried and dead-lettered by its own segment only (filtered records
// never reach the DLQ), and under manual offsets filtered records never wait for a mark while
// a kept record that is not marked holds its segment's commit — and only its segment's.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { DLQ_HEADERS } from '../../../src/processing/dead-letter-queue.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import {
  bootstrapServers,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'
import { committedArray, segmentGroups, waitCommittedAtEnd } from '../../support/segment-processing.ts'

const kafka = () => ({ bootstrap: bootstrapServers(), clientId: 'segments-failures' })

test('retries and the DLQ: a failing record is retried and dead-lettered by its own segment only', async () => {
  const topic = await createTopic('seg-dlq', 2)
  const dlqTopic = await createTopic('seg-dlq-target', 1)
  // Default records: key k<i % 100>, header seq=i, partition i % 2 (offset i >> 1).
  await produceRecords(topic, 400, { partitions: 2 })
  const segmentOf = (seq: number) => defaultSegmentReducer(`k${seq % 100}`, 2)
  // Poison records in both segments (always fail), and flaky ones (fail once, then succeed).
  const poison = [10, 11, 12, 13, 14, 15, 16, 17]
  const flaky = [20, 21, 22, 23, 24, 25]
  assert.deepEqual(new Set(poison.map(segmentOf)), new Set([0, 1]), 'poison in both segments')
  const attempts = new Map<number, Array<{ segment: number; attempt: number }>>()
  const processed = new Map<number, number[]>()
  const origin = uniqueName('seg-dlq')
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(origin, (g) => {
    g.parallelSegments({ count: 2, partitioner: (r) => r.keyString })
    g.topic(topic, {
      processing: { style: 'continuous', ordering: 'key', commitIntervalMs: 100 },
      retries: { backoff: { initialMs: 20, maxMs: 100, exponential: true } },
      deadLetterQueue: { topic: dlqTopic, maxRetries: 2 },
      handler: (record, ctx) => {
        const seq = Number(record.headers.get('seq'))
        attempts.set(seq, [
          ...(attempts.get(seq) ?? []),
          { segment: ctx.consumerGroup.segmentId, attempt: ctx.attempt },
        ])
        if (poison.includes(seq)) throw new Error(`poison ${seq}`)
        if (flaky.includes(seq) && ctx.attempt === 1) throw new Error(`flaky ${seq}`)
        processed.set(seq, [...(processed.get(seq) ?? []), ctx.consumerGroup.segmentId])
      },
    })
  })
  const dispatched: Array<{ group: string; offset: number }> = []
  app.on('dead_letter_queue.dispatched', (e) => dispatched.push({ group: e.consumerGroup, offset: e.offset }))
  await app.start()
  try {
    await waitUntil(() => processed.size === 400 - poison.length && dispatched.length >= poison.length, {
      timeoutMs: 60_000,
      message: 'all processed or dead-lettered',
    })
    await waitCommittedAtEnd(segmentGroups(origin, 2), topic, 2)
  } finally {
    await app.stop()
  }

  for (const [seq, segments] of processed)
    assert.deepEqual(segments, [segmentOf(seq)], `record ${seq} once, in its segment`)
  for (const seq of poison) {
    assert.deepEqual(
      attempts.get(seq),
      [1, 2, 3].map((attempt) => ({ segment: segmentOf(seq), attempt })),
      `poison ${seq}: three attempts, all in its segment`,
    )
  }
  for (const seq of flaky) {
    assert.deepEqual(
      attempts.get(seq),
      [1, 2].map((attempt) => ({ segment: segmentOf(seq), attempt })),
      `flaky ${seq}: retried once, in its segment`,
    )
  }
  assert.equal(
    dispatched.length,
    poison.length,
    'each poison record dead-lettered once (not once per segment)',
  )
  const dead = await readRecords(dlqTopic, poison.length)
  const end = await endOffsets(dlqTopic, 1)
  assert.equal(end.get(0), poison.length, 'nothing else in the DLQ: no filtered record reached it')
  assert.deepEqual(
    dead.map((r) => Number(r.headers.seq)).sort((a, b) => a - b),
    poison,
  )
  for (const r of dead) {
    assert.equal(
      r.headers[DLQ_HEADERS.consumerGroup],
      `${origin}-parallel-${segmentOf(Number(r.headers.seq))}`,
    )
  }
})

test('manual offsets: filtered records never wait for a mark; an unmarked kept record holds only its own segment', async () => {
  const topic = await createTopic('seg-mom', 2)
  // Default records: key k<i % 100>, header seq=i, partition i % 2, offset i >> 1.
  await produceRecords(topic, 400, { partitions: 2 })
  // Partition 1 is routed wholly to segment 0 (a value the reducer maps there): segment 1 never
  // handles a record of it, so it never marks one — and must still commit it to the end.
  const toZero = ['a', 'b', 'c', 'd', 'e', 'f'].find((v) => defaultSegmentReducer(v, 2) === 0)!
  const partitioner = (r: { partition: number; keyString: string | null }) =>
    r.partition === 1 ? toZero : r.keyString
  const segmentOf = (partition: number, seq: number) =>
    partition === 1 ? 0 : defaultSegmentReducer(`k${seq % 100}`, 2)
  // In partition 0, segment 0 leaves its records from offset HOLD on unmarked (finished, not marked).
  const kept0 = [...Array(200).keys()].filter((o) => segmentOf(0, o * 2) === 0)
  const hold = kept0.find((o) => o >= 120)!
  assert.ok(
    kept0.some((o) => o < hold) && [...Array(200).keys()].some((o) => o > hold && segmentOf(0, o * 2) === 1),
  )

  const origin = uniqueName('seg-mom')
  const groups = segmentGroups(origin, 2)
  const run = async (markAll: boolean) => {
    const handled: string[] = []
    const app = createApp({ kafka: kafka(), logger: false })
    app.consumerGroup(origin, (g) => {
      g.parallelSegments({ count: 2, partitioner })
      g.topic(topic, {
        manualOffsets: true,
        processing: { style: 'continuous', ordering: 'partition', commitIntervalMs: 50 },
        handler: (record, ctx) => {
          const s = ctx.consumerGroup.segmentId
          handled.push(`${s}:${record.partition}:${record.offset}`)
          const holding = !markAll && s === 0 && record.partition === 0 && record.offset >= hold
          if (!holding) ctx.markAsConsumed(record.offset)
        },
      })
    })
    return { app, handled }
  }

  // First run: segment 1 ends at the log end of both partitions (it marked only its own records
  // in partition 0 and none in partition 1); segment 0 at the log end of partition 1 and at
  // HOLD in partition 0, however many filtered records follow.
  const first = await run(false)
  const ends = await endOffsets(topic, 2)
  await first.app.start()
  try {
    await waitUntil(() => first.handled.length === 400, { timeoutMs: 60_000, message: '400 handled' })
    await waitCommittedAtEnd([groups[1]!], topic, 2)
    await waitUntil(
      async () => (await committedArray(groups[0]!, topic, 2)).join() === `${hold},${ends.get(1)}`,
      {
        message: `segment 0 committed at ${hold} (partition 0) and the end (partition 1)`,
      },
    )
    // Commits keep flowing (every 50 ms): segment 0 still never passes its unmarked record.
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(await committedArray(groups[0]!, topic, 2), [hold, ends.get(1)])
  } finally {
    await first.app.stop()
  }
  assert.deepEqual(
    await committedArray(groups[0]!, topic, 2),
    [hold, ends.get(1)],
    'not passed at shutdown either',
  )

  // Second run (marking everything): only segment 0's unmarked records come again; its marked
  // ones and everything of segment 1 stay done.
  const second = await run(true)
  await second.app.start()
  try {
    await waitCommittedAtEnd(groups, topic, 2)
  } finally {
    await second.app.stop()
  }
  const again = kept0.filter((o) => o >= hold).map((o) => `0:0:${o}`)
  assert.deepEqual(second.handled.sort(), again.sort())
})
