// On a real broker: app.stop() returns within shutdownTimeoutMs plus a few seconds however the
// handlers behave (ProcessingRuntime.stop's promise), also when it comes while a revocation is
// draining. A SIGTERM'd pod must stop within its grace period.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

// A stop that comes while partitions are being revoked (a member joined) does not wait for
// that revocation's drain (up to revokeTimeoutMs) before the shutdown's own drain (bounded by
// shutdownTimeoutMs): waiting for both would take 30 s more than promised with the defaults.
test('stop() while a revocation drains returns within shutdownTimeoutMs plus a few seconds', async () => {
  const topic = await createTopic('stop-during-revoke', 4)
  await produceRecords(topic, 40, { partitions: 4 })
  const group = uniqueName('stop-during-revoke')
  let release!: () => void
  const stuck = new Promise<void>((r) => (release = r))
  const startedIn = new Set<number>()
  const a = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'stop-during-revoke-a' },
    logger: false,
    shutdownTimeoutMs: 1000,
    statisticsIntervalMs: 100,
  })
  a.consumerGroup(group, (g) => {
    g.options({ revokeTimeoutMs: 20_000 })
    g.topic(topic, {
      // Each partition's first record runs until the end of the test (it ignores ctx.signal).
      handler: async (record) => {
        startedIn.add(record.partition)
        await stuck
      },
    })
  })
  let assignedToA = 4
  a.on('statistics.emitted', (e) => {
    assignedToA = e.partitions.length
  })
  const b = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'stop-during-revoke-b' },
    logger: false,
  })
  b.consumerGroup(group, (g) => {
    g.topic(topic, { handler: () => {} })
  })
  await a.start()
  let bStarted = false
  try {
    await waitUntil(() => startedIn.size === 4, { message: 'a handler runs in each partition of A' })
    await b.start()
    bStarted = true
    // A stopped fetching some partitions: their revocation drains (20 s, the handlers are stuck).
    await waitUntil(() => assignedToA < 4, { message: 'a revocation started in A' })
    const started = Date.now()
    await a.stop()
    const elapsed = Date.now() - started
    assert.ok(elapsed < 1000 + 8000, `stop() took ${elapsed} ms (shutdownTimeoutMs 1000)`)
  } finally {
    release()
    await a.stop()
    if (bStarted) await b.stop()
  }
})
