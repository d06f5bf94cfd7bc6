// Share groups through the app at shutdown: records whose handlers outlast the shutdown deadline
// are released and each release is reported like any other (share.released, the released
// counter); and a partition revoked just before the shutdown keeps its running record locked
// until the handler ends — it is not released to another member while it still runs here.
// On a real broker.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeShareGroup } from '../../../src/admin/share.ts'
import { createApp } from '../../../src/app/app.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { kafkaOptions, shareGroup, shareTestApp } from '../../support/share.ts'

/** A promise the test resolves itself. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

async function allLagZero(groupId: string, partitions: number): Promise<void> {
  await waitUntil(
    async () => {
      const d = await describeShareGroup(kafkaOptions(), groupId)
      return d.partitions.length === partitions && d.partitions.every((p) => p.lag === 0)
    },
    { timeoutMs: 60_000, message: `lag 0 on all ${partitions} share partitions` },
  )
}

describe('share groups in the app: shutdown', () => {
  it('records still running at the shutdown deadline are released and reported; another member gets them', async () => {
    const topic = await createTopic('share-stop-release', 1)
    const group = await shareGroup('share-stop-release')
    await produceRecords(topic, 3, { partitions: 1 })
    const stuck = gate()
    const started = new Set<number>()
    const released: Array<MultilaneEvents['share.released']> = []
    // A short shutdown deadline: the handlers ignore it (and the abort signal).
    const a = shareTestApp('share-stop-release-a', 2000)
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        processing: { style: 'continuous', capacity: 3 },
        handler: async (record) => {
          started.add(record.offset)
          await stuck.promise
        },
      }),
    )
    a.on('share.released', (e) => released.push(e))
    const b = shareTestApp('share-stop-release-b')
    const second = new Map<number, number>()
    try {
      await a.start()
      await waitUntil(() => started.size === 3, { timeoutMs: 60_000, message: 'A runs all 3 records' })
      await a.stop()
      assert.deepEqual(
        released.map((e) => [e.offset, e.deliveryCount]).sort((x, y) => x[0]! - y[0]!),
        [
          [0, 1],
          [1, 1],
          [2, 1],
        ],
        'each record dropped at the shutdown deadline is reported released',
      )
      b.shareGroup(group, (g) =>
        g.topic(topic, {
          handler: (record) => {
            second.set(record.offset, record.deliveryCount)
          },
        }),
      )
      await b.start()
      await waitUntil(() => second.size === 3, { timeoutMs: 60_000, message: 'B handles the 3 records' })
      assert.deepEqual([...second.values()], [2, 2, 2], 'B got them as second deliveries')
    } finally {
      stuck.open()
      await Promise.allSettled([a.stop(), b.stop()])
    }
  })

  it('a partition revoked just before the shutdown keeps its running record until the handler ends', async () => {
    const topic = await createTopic('share-stop-revoked', 2)
    const group = await shareGroup('share-stop-revoked')
    await produceRecords(topic, 2, { partitions: 2 })
    const gates = [gate(), gate()]
    const runsA = new Map<number, { start: number; end: number }>()
    const startsB: Array<{ partition: number; offset: number; deliveryCount: number; at: number }> = []
    const revokedA: Array<MultilaneEvents['partitions.revoked']> = []
    // Statistics list the partitions A is assigned: they show when A's revocation began.
    const a = createApp({
      kafka: { bootstrap: bootstrapServers(), clientId: 'share-stop-revoked-a' },
      logger: false,
      shutdownTimeoutMs: 30_000,
      statisticsIntervalMs: 100,
    })
    let assignedA: number[] = []
    a.on('statistics.emitted', (e) => {
      assignedA = e.partitions.filter((p) => p.topic === topic).map((p) => p.partition)
    })
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        processing: { style: 'continuous', capacity: 2 },
        handler: async (record) => {
          const run = { start: performance.now(), end: Number.NaN }
          runsA.set(record.partition, run)
          await gates[record.partition]!.promise
          run.end = performance.now()
        },
      }),
    )
    a.on('partitions.revoked', (e) => revokedA.push(e))
    const b = shareTestApp('share-stop-revoked-b')
    const assignedB: number[] = []
    b.shareGroup(group, (g) =>
      g.topic(topic, {
        handler: (record) => {
          startsB.push({
            partition: record.partition,
            offset: record.offset,
            deliveryCount: record.deliveryCount,
            at: performance.now(),
          })
        },
      }),
    )
    b.on('partitions.assigned', (e) => assignedB.push(...e.partitions.map((p) => p.partition)))
    let stopReturned = Number.NaN
    let revokedEventAt = Number.NaN
    try {
      await a.start()
      await waitUntil(() => runsA.size === 2, { timeoutMs: 60_000, message: 'A runs both records' })
      // B joins: one of A's partitions moves to B while A's handler of it still runs.
      await b.start()
      await waitUntil(() => assignedB.length > 0, { timeoutMs: 60_000, message: 'B is assigned a partition' })
      const moved = assignedB[0]!
      const kept = 1 - moved
      await waitUntil(() => assignedA.length === 1 && assignedA[0] === kept, {
        timeoutMs: 60_000,
        message: `A's assignment loses partition ${moved}`,
      })
      gates[kept]!.open()
      await waitUntil(() => runsA.get(kept)!.end > 0, { message: "A's record of the kept partition ended" })
      const stopping = a.stop().then(() => {
        stopReturned = performance.now()
      })
      a.on('partitions.revoked', (e) => {
        if (e.partitions.some((p) => p.partition === moved)) revokedEventAt = performance.now()
      })
      // The moved partition's handler goes on for a few seconds after stop() was called.
      await new Promise((resolve) => setTimeout(resolve, 4000))
      gates[moved]!.open()
      await stopping
      await allLagZero(group, 2)
      const run = runsA.get(moved)!
      assert.ok(run.end > 0, "A's handler of the moved partition ended")
      const early = startsB.filter((s) => s.partition === moved && s.at < run.end)
      assert.deepEqual(early, [], 'B ran the record while A still ran it')
      assert.ok(stopReturned >= run.end, "A's stop returned while its handler of the moved partition ran")
      assert.ok(
        revokedA.some((e) => e.partitions.some((p) => p.partition === moved)),
        'the revocation was reported',
      )
      if (!Number.isNaN(revokedEventAt)) assert.ok(revokedEventAt <= stopReturned)
    } finally {
      for (const g of gates) g.open()
      await Promise.allSettled([a.stop(), b.stop()])
    }
  })
})
