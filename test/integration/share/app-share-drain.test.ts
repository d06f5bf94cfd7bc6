// Share groups through the app, a member that drains at shutdown: while its running handlers
// finish, it must neither keep the records it fetched ahead nor acquire new ones — the other
// members get them at once, not when the drain ends — on a real broker.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { shareGroup, shareTestApp } from '../../support/share.ts'

test('a draining member holds no records but those still running: the others get the rest during its drain', async () => {
  const topic = await createTopic('share-app-drain', 1)
  const group = await shareGroup('share-app-drain', { recordLockDurationMs: 60_000 })
  let unblock: () => void = () => {}
  const stuck = new Promise<void>((resolve) => {
    unblock = resolve
  })
  const byA: number[] = []
  const a = shareTestApp('share-drain-a', 60_000)
  let aAssigned = false
  a.shareGroup(group, (g) =>
    g.topic(topic, {
      processing: { capacity: 1 },
      handler: async (record) => {
        byA.push(record.offset)
        // Its first record runs until the test ends it: A drains as long as that.
        if (byA.length === 1) await stuck
      },
    }),
  )
  a.on('partitions.assigned', () => {
    aAssigned = true
  })
  const byB: Array<{ offset: number; deliveryCount: number }> = []
  const b = shareTestApp('share-drain-b', 60_000)
  let bAssigned = false
  b.shareGroup(group, (g) =>
    g.topic(topic, {
      handler: (record) => {
        byB.push({ offset: record.offset, deliveryCount: record.deliveryCount })
      },
    }),
  )
  b.on('partitions.assigned', () => {
    bAssigned = true
  })
  let stopping: Promise<void> | undefined
  try {
    await a.start()
    await waitUntil(() => aAssigned, { message: 'A assigned' })
    // One producer batch: A acquires it whole, runs the first record and buffers the rest.
    await produceRecords(topic, 20, { partitions: 1, batchSize: 20 })
    await waitUntil(() => byA.length === 1, { message: 'A runs its first record' })
    stopping = a.stop()
    // Records produced while A drains.
    await produceRecords(topic, 20, { partitions: 1, batchSize: 20 })
    await b.start()
    await waitUntil(() => bAssigned, { message: 'B assigned' })
    await waitUntil(() => new Set(byB.map((d) => d.offset)).size === 39, {
      timeoutMs: 20_000,
      message: `B handles the 39 records A is not running while A drains (B has ${byB.length})`,
    })
    assert.deepEqual(byA, [0], 'A started nothing after the stop')
  } finally {
    unblock()
    await stopping
    await b.stop()
  }
})
