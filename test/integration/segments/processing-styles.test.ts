// Parallel segments under every processing style and ordering (a compact matrix), and virtual
// partitions inside a segment: each record handled once, by its segment, in the order its
// ordering promises; both segments committed at the log end.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createApp } from '../../../src/app/app.ts'
import type { ConsumedRecord } from '../../../src/processing/record.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import {
  countingJson,
  type KeyedValue,
  keyedRecord,
  segmentGroups,
  waitCommittedAtEnd,
} from '../../support/segment-processing.ts'

const KEYS = 40
const RECORDS = 800
const PARTITIONS = 3

for (const style of ['blocking', 'continuous'] as const) {
  for (const ordering of ['partition', 'key', 'unordered'] as const) {
    for (const batch of [false, true]) {
      const shape = batch ? 'batchHandler' : 'handler'
      test(`${style} × ${ordering} × ${shape}, 2 segments: each record once, by its segment, in order; both at the log end`, async () => {
        const topic = await createTopic(`seg-${style}-${ordering}`, PARTITIONS)
        await produceRecords(topic, RECORDS, {
          partitions: PARTITIONS,
          record: (i) => keyedRecord(i, KEYS, PARTITIONS),
        })
        const origin = uniqueName(`seg-${style}-${ordering}`)
        const deserializer = countingJson<KeyedValue>()
        const handled: Array<{ segment: number; partition: number; offset: number } & KeyedValue> = []
        const app = createApp({
          kafka: { bootstrap: bootstrapServers(), clientId: 'seg-matrix' },
          logger: false,
        })
        app.consumerGroup(origin, (g) => {
          g.parallelSegments({ count: 2, partitioner: (r) => r.headers.get('user') })
          const processing = { style, ordering, capacity: 8, maxPollRecords: 50, commitIntervalMs: 100 }
          const handle = (record: ConsumedRecord<KeyedValue | null>, segment: number) => {
            handled.push({ segment, partition: record.partition, offset: record.offset, ...record.payload! })
          }
          if (batch) {
            g.topic(topic, {
              deserializer,
              processing,
              batchHandler: async (records, ctx) => {
                for (const r of records) handle(r, ctx.consumerGroup.segmentId)
                await sleep(1)
              },
            })
          } else {
            g.topic(topic, {
              deserializer,
              processing,
              handler: async (record, ctx) => {
                handle(record, ctx.consumerGroup.segmentId)
                await sleep(Math.random() < 0.05 ? 2 : 0)
              },
            })
          }
        })
        await app.start()
        try {
          await waitUntil(() => handled.length >= RECORDS, {
            timeoutMs: 60_000,
            message: `${RECORDS} handled`,
          })
          await waitCommittedAtEnd(segmentGroups(origin, 2), topic, PARTITIONS)
        } finally {
          await app.stop()
        }
        assert.equal(handled.length, RECORDS, 'no record handled twice')
        assert.equal(new Set(handled.map((h) => `${h.partition}:${h.offset}`)).size, RECORDS)
        for (const h of handled)
          assert.equal(h.segment, defaultSegmentReducer(h.key, 2), `${h.key} in its segment`)
        assert.equal(deserializer.total(), RECORDS, 'only kept records deserialized')
        if (ordering !== 'unordered') {
          // Key order holds under both orderings (a key lives in one partition); partition
          // ordering also keeps each segment's share of a partition in offset order.
          const lastSeq = new Map<string, number>()
          const lastOffset = new Map<string, number>()
          for (const h of handled) {
            assert.equal(h.seq, (lastSeq.get(h.key) ?? -1) + 1, `${h.key} in sequence`)
            lastSeq.set(h.key, h.seq)
            if (ordering === 'partition') {
              const lane = `${h.segment}:${h.partition}`
              assert.ok(h.offset > (lastOffset.get(lane) ?? -1), `${lane} in offset order`)
              lastOffset.set(lane, h.offset)
            }
          }
        }
      })
    }
  }
}

test('virtual partitions inside a segment: lanes run in parallel within the segment, each key in order', async () => {
  const topic = await createTopic('seg-vp', 2)
  await produceRecords(topic, 1200, { partitions: 2, record: (i) => keyedRecord(i, 60, 2) })
  const origin = uniqueName('seg-vp')
  const running = [0, 0]
  const maxRunning = [0, 0]
  const lastSeq = new Map<string, number>()
  const outOfOrder: string[] = []
  let handled = 0
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'seg-vp' }, logger: false })
  app.consumerGroup(origin, (g) => {
    g.parallelSegments({ count: 2, partitioner: (r) => r.headers.get('user') })
    g.topic(topic, {
      deserializer: countingJson<KeyedValue>(),
      processing: { style: 'continuous', capacity: 16, ordering: 'key', commitIntervalMs: 100 },
      // A partitioner of its own (the header), inside the segment's share of each partition.
      virtualPartitions: { partitioner: (r) => r.headers.get('user'), maxPartitions: 8 },
      handler: async (record, ctx) => {
        const s = ctx.consumerGroup.segmentId
        running[s]!++
        maxRunning[s] = Math.max(maxRunning[s]!, running[s]!)
        const { key, seq } = record.payload!
        if (seq !== (lastSeq.get(key) ?? -1) + 1) outOfOrder.push(`${key}: ${lastSeq.get(key)} then ${seq}`)
        lastSeq.set(key, seq)
        await sleep(2)
        running[s]!--
        handled++
      },
    })
  })
  await app.start()
  try {
    await waitUntil(() => handled >= 1200, { timeoutMs: 60_000, message: '1200 handled' })
    await waitCommittedAtEnd(segmentGroups(origin, 2), topic, 2)
  } finally {
    await app.stop()
  }
  assert.equal(handled, 1200)
  assert.deepEqual(outOfOrder, [])
  for (const s of [0, 1]) {
    assert.ok(maxRunning[s]! > 2, `segment ${s} ran lanes in parallel (max ${maxRunning[s]} at once)`)
    assert.ok(maxRunning[s]! <= 16, `segment ${s} within capacity (${maxRunning[s]})`)
  }
})
