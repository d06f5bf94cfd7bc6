// Offset maps restored from the broker, on a real broker: a large restored map does not hold
// intake for good, and a map copied next to a translated offset (MirrorMaker 2's group offset
// sync) is ignored rather than let it skip records that were never processed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import type { OffsetToCommit } from '../../../src/engine/types.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import {
  encodeCommitMetadata,
  MAX_COMMIT_METADATA_BYTES,
} from '../../../src/processing/consumer-group/commit-metadata.ts'
import { encodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

/** Commits offsets for a group as a member of it would (with metadata), then leaves. */
async function commitAs(group: string, topic: string, offsets: OffsetToCommit[]): Promise<void> {
  const consumer = new GroupConsumer({
    bootstrap: bootstrapServers(),
    clientId: 'previous',
    groupId: group,
    topics: [topic],
  })
  await consumer.start()
  try {
    await waitUntil(() => consumer.assignment().length > 0, {
      message: 'the previous member owns the partition',
    })
    await consumer.commit(offsets)
  } finally {
    await consumer.close()
  }
}

function handledBy(group: string, topic: string, handled: Set<number>) {
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'restored' }, logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { commitIntervalMs: 100, ordering: 'unordered', capacity: 50 },
      handler: (r) => void handled.add(r.offset),
    })
  })
  return app
}

test('a restored offset map near the metadata limit does not stall the new owner', async () => {
  const topic = await createTopic('restored-large', 1)
  const total = 25_000
  await produceRecords(topic, total, { partitions: 1, batchSize: 5000 })
  const group = uniqueName('restored-large')
  // The previous owner finished a random half of the records from 1001 to 20,800: a map of
  // about 3.3 kB that does not compress, near the commit metadata limit.
  let x = 7
  const scattered: number[] = []
  for (let o = 1001; o < 20_800; o++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    if ((x >>> 0) % 2 === 0) scattered.push(o)
  }
  const metadata = encodeCommitMetadata({
    offsetMap: { base: 1000, token: encodeOffsetMap(1000, scattered) },
  })
  assert.ok(
    Buffer.byteLength(metadata) > MAX_COMMIT_METADATA_BYTES * 0.75,
    `${Buffer.byteLength(metadata)} B`,
  )
  assert.ok(Buffer.byteLength(metadata) <= MAX_COMMIT_METADATA_BYTES)
  await commitAs(group, topic, [{ topic, partition: 0, offset: 1000, metadata }])

  const handled = new Set<number>()
  const app = handledBy(group, topic, handled)
  await app.start()
  try {
    await waitUntil(async () => (await committedOffsets(group, topic, 1)).get(0)?.offset === total, {
      timeoutMs: 60_000,
      message: `committed at the end (handled ${handled.size})`,
    })
  } finally {
    await app.stop()
  }
  // Exactly the records the map did not list were handled.
  const listed = new Set(scattered)
  for (let o = 1000; o < total; o++) assert.equal(handled.has(o), !listed.has(o), `offset ${o}`)
})

test('a map written for another offset (copied by a tool that translated the offset) is ignored, with an event', async () => {
  const topic = await createTopic('map-base', 1)
  await produceRecords(topic, 4100, { partitions: 1, batchSize: 4100 })
  const group = uniqueName('map-base')
  // Upstream: committed 5005 with 5007-5009 done above it. The tool wrote offset 4002 downstream
  // with the same metadata; read against 4002 the map would say 4004-4006 are done.
  const upstream = encodeCommitMetadata({
    offsetMap: { base: 5005, token: encodeOffsetMap(5005, [5007, 5008, 5009]) },
  })
  await commitAs(group, topic, [{ topic, partition: 0, offset: 4002, metadata: upstream }])
  const handled = new Set<number>()
  const discarded: Array<MultilaneEvents['offsets.map_discarded']> = []
  const app = handledBy(group, topic, handled)
  app.on('offsets.map_discarded', (e) => discarded.push(e))
  await app.start()
  try {
    await waitUntil(() => handled.size === 98, { message: 'every record from 4002 on handled' })
  } finally {
    await app.stop()
  }
  for (const o of [4004, 4005, 4006]) assert.ok(handled.has(o), `${o} was processed`)
  assert.deepEqual(
    discarded.map((d) => [d.reason, d.mapBase, d.committedOffset]),
    [['base_mismatch', 5005, 4002]],
  )
})
