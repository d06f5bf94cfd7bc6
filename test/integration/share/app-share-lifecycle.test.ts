// Share groups through the app when members go away: a member SIGKILLed mid-run
// (its locks go with its connections: the others get its records, none lost), and a graceful
// shutdown with records in flight (running ones finish and are accepted, the rest are released
// at once: another member gets them without waiting for the lock timeout) — on a real broker.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { spawnFixture } from '../../support/fixture-process.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { lagZero, shareGroup, shareTestApp } from '../../support/share.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A member in this process that records every delivery it handled. */
function survivor(group: string, topic: string, name: string) {
  const deliveries: Array<{ offset: number; deliveryCount: number }> = []
  let assigned = false
  const a = shareTestApp(name, 10_000)
  a.shareGroup(group, (g) =>
    g.topic(topic, {
      processing: { capacity: 10 },
      handler: async (record) => {
        await sleep(5 + Math.random() * 15)
        deliveries.push({ offset: record.offset, deliveryCount: record.deliveryCount })
      },
    }),
  )
  a.on('partitions.assigned', () => {
    assigned = true
  })
  return { app: a, deliveries, assigned: () => assigned }
}

describe('share groups in the app: members going away', () => {
  it('a member SIGKILLed mid-run: the records it held go to the others at once, none lost', async () => {
    const total = 2000
    const topic = await createTopic('share-app-kill', 1)
    // A lock far longer than the test waits: the records come back because the broker drops
    // the killed member's locks with its connections, not because they time out.
    const lockMs = 60_000
    const group = await shareGroup('share-app-kill', { recordLockDurationMs: lockMs })
    const started = new Set<number>()
    const processed = new Set<number>()
    let ready = false
    const child = spawnFixture(
      'share-app-process.ts',
      [bootstrapServers().join(','), topic, group, '20'],
      (line) => {
        if (line === 'ready') ready = true
        else if (line.startsWith('S ')) started.add(Number(line.slice(2)))
        else if (line.startsWith('P ')) processed.add(Number(line.slice(2)))
      },
    )
    const exited = once(child, 'exit')
    const others = [survivor(group, topic, 'share-kill-1'), survivor(group, topic, 'share-kill-2')]
    try {
      await waitUntil(() => ready, { message: 'the child member is assigned' })
      await Promise.all(others.map((o) => o.app.start()))
      await waitUntil(() => others.every((o) => o.assigned()), { message: 'the others are assigned' })
      await produceRecords(topic, total, { partitions: 1, batchSize: 50 })
      await waitUntil(() => started.size >= 40, { message: 'the child runs records' })
      child.kill('SIGKILL')
      const killedAt = Date.now()
      await exited
      // Running in the child when it died: never accepted, so they must come back.
      const cut = new Set([...started].filter((o) => !processed.has(o)))
      assert.ok(cut.size > 0, 'the child had records running when it was killed')
      const handledByOthers = () => new Set(others.flatMap((o) => o.deliveries.map((d) => d.offset)))
      await waitUntil(() => [...cut].every((o) => handledByOthers().has(o)), {
        timeoutMs: 60_000,
        message: `the ${cut.size} records cut off in the child handled by the others`,
      })
      const backAfterMs = Date.now() - killedAt
      assert.ok(backAfterMs < lockMs / 2, `back after ${backAfterMs} ms, long before the lock timeout`)
      await lagZero(group, 60_000)
      await Promise.all(others.map((o) => o.app.stop()))
      const deliveries = others.flatMap((o) => o.deliveries)
      const ours = handledByOthers()
      // Count: every record was handled to its end, here or in the child before the kill.
      const missing = [...Array(total).keys()].filter((o) => !ours.has(o) && !processed.has(o))
      assert.deepEqual(missing, [], 'every record handled by a survivor or by the child')
      for (const offset of cut) {
        assert.ok(
          deliveries.some((d) => d.offset === offset && d.deliveryCount >= 2),
          `offset ${offset} came back with a higher delivery count`,
        )
      }
      // Records the child never had are handled once: a crash duplicates only what it held.
      const duplicated = deliveries.filter(
        (d, i) => !started.has(d.offset) && deliveries.findIndex((x) => x.offset === d.offset) !== i,
      )
      assert.deepEqual(duplicated, [], 'records the child never had were handled once')
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await Promise.allSettled(others.map((o) => o.app.stop()))
    }
  })

  it('graceful shutdown with records in flight: running ones finish and are accepted, the rest are released at once', async () => {
    const total = 200
    const topic = await createTopic('share-app-shutdown', 1)
    const lockMs = 60_000
    const group = await shareGroup('share-app-shutdown', { recordLockDurationMs: lockMs })
    const byA: number[] = []
    const finishedInA = new Set<number>()
    let unblock: () => void = () => {}
    const stuck = new Promise<void>((resolve) => {
      unblock = resolve
    })
    const errors: Array<MultilaneEvents['error.occurred']> = []
    // Shutdown waits 2 s for running handlers; one of them never finishes in time.
    const a = shareTestApp('share-shutdown-a', 2000)
    let aAssigned = false
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        processing: { capacity: 5 },
        handler: async (record) => {
          byA.push(record.offset)
          if (record.offset === 2) await stuck
          else await sleep(500)
          finishedInA.add(record.offset)
        },
      }),
    )
    a.on('partitions.assigned', () => {
      aAssigned = true
    })
    a.on('error.occurred', (e) => errors.push(e))
    const b = survivor(group, topic, 'share-shutdown-b')
    try {
      await a.start()
      await waitUntil(() => aAssigned, { message: 'A assigned' })
      // One producer batch: A's first fetch acquires (locks) all of it, 5 run at a time.
      await produceRecords(topic, total, { partitions: 1, batchSize: total })
      await waitUntil(() => byA.length >= 5, { message: 'A runs records' })
      await a.stop()
      const stoppedAt = Date.now()
      const inA = new Set(byA)
      // What A had not finished (not started, or the stuck one cut off by the deadline) was released.
      await b.app.start()
      await waitUntil(() => b.deliveries.length >= total - finishedInA.size, {
        timeoutMs: 30_000,
        message: 'B handles every record A did not finish',
      })
      const backAfterMs = Date.now() - stoppedAt
      assert.ok(backAfterMs < lockMs / 4, `released records handled ${backAfterMs} ms after the stop`)
      await lagZero(group)
      const byB = new Set(b.deliveries.map((d) => d.offset))
      for (const offset of finishedInA)
        assert.ok(!byB.has(offset), `offset ${offset} finished in A and was accepted`)
      assert.ok(byB.has(2), 'the record still running at the shutdown deadline was released')
      assert.ok(inA.size < total, 'A was stopped with records it had not started')
      assert.equal(
        finishedInA.size + b.deliveries.length,
        total,
        'every record handled once (the stuck one by B)',
      )
      // The stuck handler ends after the member closed: nothing more to acknowledge, no error.
      unblock()
      await waitUntil(() => finishedInA.has(2), { message: 'the stuck handler ends' })
      await sleep(200)
      assert.deepEqual(
        errors.map((e) => `${e.type}: ${e.error.message}`),
        [],
        'no error reported by A',
      )
    } finally {
      unblock()
      await Promise.allSettled([a.stop(), b.app.stop()])
    }
  })
})
