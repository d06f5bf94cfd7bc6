// The runtime under a rebalance (revocation drains in-flight records and commits them), the
// offset map's size limit, and partitioner failures.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createApp } from '../../../src/app/app.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

const kafka = () => ({ bootstrap: bootstrapServers(), clientId: 'rebalance-limits' })

test('a second instance joins mid-run: revoked partitions drain and commit, nothing is handled twice', async () => {
  const topic = await createTopic('proc-rebalance', 6)
  const group = uniqueName('proc-rebalance')
  await produceRecords(topic, 1200, { partitions: 6 })
  const handledBy = new Map<string, string[]>()
  const revocations: Array<MultilaneEvents['partitions.revoked']> = []
  const build = (name: string) => {
    const app = createApp({ kafka: kafka(), logger: false })
    app.consumerGroup(group, (g) => {
      g.topic(topic, {
        processing: {
          style: 'continuous',
          capacity: 30,
          ordering: 'unordered',
          // Only the revocation's or the shutdown's commit: what this test is about.
          commitIntervalMs: 60_000,
          commitAfterRecords: 1_000_000,
        },
        handler: async (record) => {
          await sleep(20 + Math.random() * 60)
          const id = `${record.partition}:${record.offset}`
          handledBy.set(id, [...(handledBy.get(id) ?? []), name])
        },
      })
    })
    app.on('partitions.revoked', (e) => revocations.push(e))
    return app
  }
  const first = build('first')
  await first.start()
  await waitUntil(() => handledBy.size >= 150, { message: 'first instance under way' })
  const second = build('second')
  await second.start()
  try {
    await waitUntil(() => handledBy.size === 1200, { timeoutMs: 60_000, message: 'all 1200 handled' })
  } finally {
    await second.stop()
    await first.stop()
  }
  const twice = [...handledBy].filter(([, by]) => by.length > 1)
  assert.deepEqual(twice, [], 'no record handled twice across the rebalance')
  assert.ok(
    revocations.some((r) => r.reason === 'revoked' && r.partitions.length > 0),
    'the first instance gave partitions up',
  )
  assert.ok(
    [...handledBy.values()].some((by) => by[0] === 'second'),
    'the second instance took over some',
  )
  const ends = await endOffsets(topic, 6)
  const committed = await committedOffsets(group, topic, 6)
  for (let p = 0; p < 6; p++) assert.equal(committed.get(p)?.offset, ends.get(p))
})

test('an offset map near the metadata limit pauses the partition, and it resumes when the map shrinks', async () => {
  const topic = await createTopic('map-limit', 1)
  const group = uniqueName('map-limit')
  const total = 400_000
  await produceRecords(topic, total, { partitions: 1, batchSize: 20_000 })
  // 2,500 random stuck records in the first 90,000 (inside the tracker's window of 100,000 above
  // the lowest unfinished record): their completed neighbours make a map of ~5,000 irregular
  // runs that does not compress under 75% of 4096 bytes, so the map limit is reached while most
  // of the topic is still unread.
  const stuck = new Set<number>()
  while (stuck.size < 2500) stuck.add(1 + Math.floor(Math.random() * 90_000))
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  let handled = 0
  const limitEvents: Array<MultilaneEvents['offsets.map_limit_reached']> = []
  const mapSizes: number[] = []
  const app = createApp({ kafka: kafka(), logger: false, statisticsIntervalMs: 100 })
  const pausedSeen: boolean[] = []
  app.on('statistics.emitted', (e) => pausedSeen.push(e.partitions[0]?.paused ?? false))
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { style: 'continuous', capacity: 3000, ordering: 'unordered', commitIntervalMs: 50 },
      handler: async (record) => {
        if (stuck.has(record.offset)) await gate
        handled++
      },
    })
  })
  app.on('offsets.map_limit_reached', (e) => limitEvents.push(e))
  app.on('offsets.committed', (e) => mapSizes.push(...e.offsets.map((o) => o.offsetMapBytes)))
  await app.start()
  try {
    await waitUntil(() => limitEvents.length > 0, { timeoutMs: 60_000, message: 'the map limit is reached' })
    await sleep(300)
    const handledWhilePaused = handled
    await sleep(700)
    // Paused: nothing new is taken; the second half of the topic stays unread.
    assert.equal(handled, handledWhilePaused, 'no records handled while paused')
    assert.ok(handled < total - 100_000, `taking stopped early (${handled} of ${total} handled)`)
    assert.ok(
      Math.max(...mapSizes) <= 4096,
      `every committed map fit the broker limit (max ${Math.max(...mapSizes)} B)`,
    )
    release()
    await waitUntil(() => handled === total, {
      timeoutMs: 60_000,
      message: 'everything handled after release',
    })
    await waitUntil(async () => (await committedOffsets(group, topic, 1)).get(0)?.offset === total, {
      message: 'committed at the end',
    })
  } finally {
    release()
    await app.stop()
  }
  assert.ok(pausedSeen.includes(true), 'statistics showed the partition paused')
  assert.equal(pausedSeen.at(-1), false, 'and resumed')
  assert.equal(limitEvents[0]!.limit, 4096)
  assert.ok(limitEvents[0]!.bytes > 3072, `reported ${limitEvents[0]!.bytes} B, over 75% of the limit`)
})

test('a throwing partitioner emits virtual_partitions.partitioner.error and its records go to lane 0', async () => {
  const topic = await createTopic('partitioner-error', 1)
  await produceRecords(topic, 100, { partitions: 1 })
  const errors: Array<MultilaneEvents['error.occurred']> = []
  let handled = 0
  const app = createApp({ kafka: kafka(), logger: false })
  app.consumerGroup(uniqueName('partitioner-error'), (g) => {
    g.topic(topic, {
      processing: { ordering: 'key' },
      virtualPartitions: {
        partitioner: (r) => {
          if (r.offset % 10 === 0) throw new Error(`no key for ${r.offset}`)
          return r.keyString
        },
        maxPartitions: 8,
      },
      handler: () => {
        handled++
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  await app.start()
  try {
    await waitUntil(() => handled === 100, { message: 'all handled' })
  } finally {
    await app.stop()
  }
  const partitionerErrors = errors.filter((e) => e.type === 'virtual_partitions.partitioner.error')
  assert.deepEqual(
    partitionerErrors.map((e) => e.offset),
    [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
  )
  assert.equal(errors.length, partitionerErrors.length, 'no other errors')
})
