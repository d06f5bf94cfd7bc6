// At-least-once under a crash and a graceful shutdown, proven by counting: what the broker
// holds as done (committed offset + offset map) is never processed again.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createApp } from '../../../src/app/app.ts'
import { decodeCommitMetadata } from '../../../src/processing/consumer-group/commit-metadata.ts'
import { decodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import { spawnApp } from '../../support/app-process.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

/** Records the broker holds as done for a group: below the committed offset, or in the offset map. */
async function doneOnBroker(group: string, topic: string, partitions: number) {
  const committed = await committedOffsets(group, topic, partitions)
  const done = (partition: number, offset: number): boolean => {
    const c = committed.get(partition)
    if (!c || c.offset < 0) return false
    if (offset < c.offset) return true
    const map = decodeCommitMetadata(c.metadata).offsetMap
    return map?.base === c.offset ? decodeOffsetMap(c.offset, map.token).includes(offset) : false
  }
  let mapped = 0
  for (const [, c] of committed) {
    const map = decodeCommitMetadata(c.metadata).offsetMap
    if (map?.base === c.offset) mapped += decodeOffsetMap(c.offset, map.token).length
  }
  return { done, mapped }
}

test('crash (SIGKILL) and restart: all processed at least once; what the offset map marks done is not repeated', async (t) => {
  const topic = await createTopic('crash', 3)
  const group = uniqueName('crash')
  const capacity = 50
  await produceRecords(topic, 1500, { partitions: 3 })

  // The app kills itself inside the first commit event after 300 finished, capacity full.
  const first = spawnApp(topic, group, capacity, 300)
  assert.equal(await first.exited, 'SIGKILL', 'the first run died by SIGKILL')
  assert.ok(first.processed.size >= 300, `first run processed ${first.processed.size} ≥ 300`)
  const processedFirst = new Set(first.processed)
  const startedFirst = new Set(first.started)
  const broker = await doneOnBroker(group, topic, 3)
  assert.ok(
    broker.mapped > 0,
    'the last commit carried an offset map (records done above the committed offset)',
  )

  const second = spawnApp(topic, group, capacity)
  await waitUntil(() => new Set([...processedFirst, ...second.processed]).size === 1500, {
    timeoutMs: 90_000,
    message: 'all 1500 processed across both runs',
  })
  second.child.kill('SIGTERM')
  await second.exited

  // A repeat is a record whose handler ran in both runs (finished or cut off by the kill).
  const duplicates = [...second.started].filter((id) => startedFirst.has(id))
  const repeatedDone = duplicates.filter((id) => {
    const [p, o] = id.split(':').map(Number)
    return broker.done(p!, o!)
  })
  const finishedAfterLastCommit = [...processedFirst].filter((id) => {
    const [p, o] = id.split(':').map(Number)
    return !broker.done(p!, o!)
  }).length
  t.diagnostic(
    `first run finished ${processedFirst.size}, offset map held ${broker.mapped}, repeats ${duplicates.length} ` +
      `(finished after the last commit: ${finishedAfterLastCommit}, capacity ${capacity})`,
  )
  assert.deepEqual(repeatedDone, [], 'nothing the broker held as done was processed again')
  // Repeated: the records in flight at the crash (≤ capacity) and those finished after the last commit.
  const inFlightAtCrash = [...startedFirst].filter((id) => !processedFirst.has(id)).length
  assert.ok(inFlightAtCrash <= capacity, `${inFlightAtCrash} in flight at the crash ≤ capacity ${capacity}`)
  assert.ok(
    duplicates.length <= inFlightAtCrash + finishedAfterLastCommit,
    `${duplicates.length} repeats ≤ ${inFlightAtCrash} in flight + ${finishedAfterLastCommit} finished after the last commit`,
  )
  // Only handlers that finished while the last commit was on the wire can be newer than it.
  assert.ok(
    finishedAfterLastCommit < capacity,
    `the kill followed a commit closely (${finishedAfterLastCommit} finished since)`,
  )
})

test('graceful shutdown with records in flight commits them; a restart repeats nothing', async () => {
  const topic = await createTopic('shutdown', 2)
  const group = uniqueName('shutdown')
  await produceRecords(topic, 300, { partitions: 2 })
  const processed: string[] = []
  let running = 0
  const build = () => {
    const app = createApp({
      kafka: { bootstrap: bootstrapServers(), clientId: 'shutdown' },
      logger: false,
      shutdownTimeoutMs: 10_000,
    })
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
          running++
          await sleep(200 + Math.random() * 300)
          processed.push(`${record.partition}:${record.offset}`)
          running--
        },
      })
    })
    return app
  }
  const first = build()
  await first.start()
  await waitUntil(() => processed.length >= 40 && running >= 10, { message: 'records in flight' })
  const inFlightAtStop = running
  await first.stop()
  assert.equal(running, 0, 'in-flight records finished during shutdown')
  const beforeRestart = new Set(processed)
  assert.equal(beforeRestart.size, processed.length)
  assert.ok(inFlightAtStop >= 10)

  const broker = await doneOnBroker(group, topic, 2)
  for (const id of beforeRestart) {
    const [p, o] = id.split(':').map(Number)
    assert.ok(broker.done(p!, o!), `${id} was committed as done at shutdown`)
  }

  const second = build()
  await second.start()
  await waitUntil(() => new Set(processed).size === 300, { timeoutMs: 60_000, message: 'the rest processed' })
  await second.stop()
  assert.equal(processed.length, 300, 'no record processed twice')
})
