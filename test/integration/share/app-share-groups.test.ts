// Share groups through the app: app.shareGroup, both styles, acknowledgement of each
// record as it finishes whichever fetch it came from, retries (local and redeliver), rejection
// and the client-side dead letter topic, lock renewal of long handlers — on a real broker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type App, createApp } from '../../../src/app/app.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { DLQ_HEADERS } from '../../../src/processing/dead-letter-queue.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'
import { shareGroup } from '../../support/share.ts'

function app(): App {
  return createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'share-app' },
    logger: false,
    shutdownTimeoutMs: 5000,
  })
}

test('three share members on one partition all get work; each record is handled and accepted once', async () => {
  const topic = await createTopic('share-app-three', 1)
  const group = await shareGroup('share-app-three')
  const total = 6000
  const handledBy = new Map<number, number>()
  const joined = new Set<number>()
  const apps = [0, 1, 2].map((member) => {
    const a = app()
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        processing: { capacity: 10, maxPollRecords: 100 },
        handler: async (record) => {
          assert.equal(handledBy.has(record.offset), false, `offset ${record.offset} handled twice`)
          handledBy.set(record.offset, member)
          await new Promise((r) => setTimeout(r, 3))
        },
      }),
    )
    a.on('partitions.assigned', () => joined.add(member))
    return a
  })
  await Promise.all(apps.map((a) => a.start()))
  try {
    // Every member owns the partition (share partitions go to every member) before records come.
    await waitUntil(() => joined.size === 3, { message: 'all three members assigned' })
    // Many small batches: batch_optimized fetches acquire whole record batches.
    await produceRecords(topic, total, { partitions: 1, batchSize: 50 })
    await waitUntil(() => handledBy.size === total, { timeoutMs: 90_000, message: `all ${total} handled` })
  } finally {
    await Promise.all(apps.map((a) => a.stop()))
  }
  const perMember = [0, 1, 2].map((m) => [...handledBy.values()].filter((v) => v === m).length)
  assert.ok(
    perMember.every((n) => n > 0),
    `every member handled some: ${perMember}`,
  )
})

test('continuous style acknowledges records of later fetches while an earlier one is still running', async () => {
  const topic = await createTopic('share-app-continuous', 1)
  const group = await shareGroup('share-app-continuous')
  await produceRecords(topic, 500, { partitions: 1 })
  const handled = new Set<number>()
  const deliveries: number[] = []
  let firstFinished = false
  const a = app()
  a.shareGroup(group, (g) => {
    // Small fetches: the other records arrive in many fetches after the first one's.
    g.options({ acquireMode: 'record_limit' })
    g.topic(topic, {
      processing: { style: 'continuous', capacity: 10, maxPollRecords: 20 },
      handler: async (record) => {
        deliveries.push(record.deliveryCount)
        // The very first record runs until every other record was handled (and acknowledged:
        // record_limit fetches only when nothing is buffered, so later fetches needed the
        // earlier ones done).
        if (record.offset === 0) {
          await waitUntil(() => handled.size === 499, { timeoutMs: 60_000, message: 'the others' })
          firstFinished = true
        }
        handled.add(record.offset)
      },
    })
  })
  await a.start()
  try {
    await waitUntil(() => handled.size === 500 && firstFinished, {
      timeoutMs: 90_000,
      message: 'all 500 handled',
    })
  } finally {
    await a.stop()
  }
  assert.ok(
    deliveries.every((d) => d === 1),
    'nothing was delivered twice (no lock expired, nothing released)',
  )
})

test('failures: local retries keep the delivery, redeliver releases it (delivery count grows), then both are accepted', async () => {
  for (const mode of ['local', 'redeliver'] as const) {
    const topic = await createTopic(`share-app-retry-${mode}`, 1)
    const group = await shareGroup(`share-app-retry-${mode}`)
    await produceRecords(topic, 20, { partitions: 1 })
    const attempts = new Map<number, Array<{ attempt: number; deliveryCount: number }>>()
    const released: Array<MultilaneEvents['share.released']> = []
    const a = app()
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        retries: { mode, maxRetries: 3, backoff: { initialMs: 50, maxMs: 100 } },
        handler: (record, ctx) => {
          const list = attempts.get(record.offset) ?? []
          list.push({ attempt: ctx.attempt, deliveryCount: record.deliveryCount })
          attempts.set(record.offset, list)
          if ((record.offset === 3 || record.offset === 7) && list.length <= 2) throw new Error('fails twice')
        },
      }),
    )
    a.on('share.released', (e) => released.push(e))
    await a.start()
    try {
      await waitUntil(() => [3, 7].every((o) => attempts.get(o)?.length === 3) && attempts.size === 20, {
        timeoutMs: 60_000,
        message: `${mode}: the failing records succeeded on their third try`,
      })
    } finally {
      await a.stop()
    }
    for (const o of [3, 7]) {
      const tries = attempts.get(o)!
      if (mode === 'local') {
        assert.deepEqual(
          tries.map((t) => t.attempt),
          [1, 2, 3],
          `${mode} ${o}: attempts`,
        )
        assert.deepEqual(
          tries.map((t) => t.deliveryCount),
          [1, 1, 1],
          `${mode} ${o}: one delivery`,
        )
      } else {
        assert.deepEqual(
          tries.map((t) => t.deliveryCount),
          [1, 2, 3],
          `${mode} ${o}: redelivered`,
        )
      }
    }
    assert.equal(released.length, mode === 'redeliver' ? 4 : 0, `${mode}: releases`)
  }
})

test('a record failing beyond its retries is dead-lettered (client side) and rejected: never delivered again', async () => {
  const topic = await createTopic('share-app-dlq', 1)
  const dlq = await createTopic('share-app-dlq-target', 1)
  const group = await shareGroup('share-app-dlq')
  await produceRecords(topic, 10, { partitions: 1 })
  const tries = new Map<number, number>()
  const rejected: Array<MultilaneEvents['share.rejected']> = []
  const a = app()
  a.shareGroup(group, (g) =>
    g.topic(topic, {
      retries: { maxRetries: 1, backoff: { initialMs: 50, maxMs: 50 } },
      deadLetterQueue: { topic: dlq },
      handler: (record) => {
        tries.set(record.offset, (tries.get(record.offset) ?? 0) + 1)
        if (record.offset === 4) throw new Error('poison')
      },
    }),
  )
  a.on('share.rejected', (e) => rejected.push(e))
  await a.start()
  try {
    await waitUntil(() => rejected.length === 1 && tries.size === 10, {
      timeoutMs: 60_000,
      message: 'rejected',
    })
  } finally {
    await a.stop()
  }
  const [dead] = await readRecords(dlq, 1)
  assert.equal(dead?.headers[DLQ_HEADERS.offset], '4')
  // A second member of the group later sees nothing: the rejected record is archived.
  const later = app()
  const seen: number[] = []
  later.shareGroup(group, (g) => g.topic(topic, { handler: (r) => void seen.push(r.offset) }))
  await later.start()
  try {
    await new Promise((r) => setTimeout(r, 2000))
  } finally {
    await later.stop()
  }
  assert.deepEqual(seen, [])
  assert.equal(tries.get(4), 2)
})

test('a handler running 3× the lock duration keeps its record (lock renewed), and it is not redelivered', async () => {
  const topic = await createTopic('share-app-renew', 1)
  const group = await shareGroup('share-app-renew', { recordLockDurationMs: 2000 })
  await produceRecords(topic, 1, { partitions: 1 })
  const deliveries: number[] = []
  const renewed: Array<MultilaneEvents['share.lock_renewed']> = []
  const lost: Array<MultilaneEvents['share.lock_lost']> = []
  const members = [app(), app()]
  for (const m of members) {
    m.shareGroup(group, (g) =>
      g.topic(topic, {
        handler: async (record) => {
          deliveries.push(record.deliveryCount)
          await new Promise((r) => setTimeout(r, 6500))
        },
      }),
    )
    m.on('share.lock_renewed', (e) => renewed.push(e))
    m.on('share.lock_lost', (e) => lost.push(e))
  }
  await Promise.all(members.map((m) => m.start()))
  try {
    await waitUntil(() => deliveries.length === 1, { message: 'the record runs' })
    await new Promise((r) => setTimeout(r, 8000))
  } finally {
    await Promise.all(members.map((m) => m.stop()))
  }
  assert.deepEqual(deliveries, [1], 'delivered once, to one member')
  assert.ok(renewed.length >= 2, `renewed ${renewed.length} times`)
  assert.deepEqual(lost, [])
})
