// Share groups through the app: records the runtime cannot take now (their partition's intake
// is full of records waiting for a local retry, or their topic is at capacity) while they are
// buffered must not make the processing loop spin without yielding — timers (the retries
// themselves), heartbeats and fetch answers would never run again. The member runs in its own
// process (a spinning one would hang the test) — on a real broker.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import { spawnFixture } from '../../support/fixture-process.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { shareGroup } from '../../support/share.ts'

test('records parked for local retries while more are buffered: the member keeps running and finishes them all', async () => {
  const topic = await createTopic('share-app-parked', 1)
  const group = await shareGroup('share-app-parked')
  let ready = false
  const ok = new Set<number>()
  const child = spawnFixture('share-parked-app.ts', [bootstrapServers().join(','), topic, group], (line) => {
    if (line === 'ready') ready = true
    else if (line.startsWith('ok ')) ok.add(Number(line.slice(3)))
  })
  const exited = once(child, 'exit')
  try {
    await waitUntil(() => ready, { message: 'the member is assigned' })
    // One producer batch: one fetch acquires all 30; capacity 1 with up to 10 records parked
    // per runnable slot leaves the other 20 buffered while the first 10 wait for their retries.
    await produceRecords(topic, 30, { partitions: 1, batchSize: 30 })
    await waitUntil(() => ok.size === 30, {
      timeoutMs: 30_000,
      message: `every record succeeds on its third attempt (${ok.size} did)`,
    })
    child.kill('SIGTERM')
    const [code] = await exited
    assert.equal(code, 0, 'drained and exited')
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
})
