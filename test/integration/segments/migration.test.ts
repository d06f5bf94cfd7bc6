// Migration to segments: an origin group consumed to offset X (with records
// done above X, kept in its offset map); `multilane segments distribute`; the segments continue
// from X: no record processed twice, none skipped, the offset map carried over.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeCommitMetadata } from '../../../src/processing/consumer-group/commit-metadata.ts'
import { decodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import { segmentsApp } from '../../fixtures/segments/segments-app.ts'
import { committedOffsets, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { commitsOf, multilane, recordingApp, segmentGroupsOf } from '../../support/segments.ts'

/** The offsets an origin's commit says are done above it. */
function mapped(metadata: string | null, offset: number): number[] {
  const map = decodeCommitMetadata(metadata).offsetMap
  return map?.base === offset ? decodeOffsetMap(offset, map.token) : []
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

test("distribute: segments continue from the origin's offset and map, nothing twice, nothing skipped", async () => {
  const topic = await createTopic('seg-migration', 2)
  const group = uniqueName('seg-migration')
  await produceRecords(topic, 400, { partitions: 2 }) // offsets 0-199 in each partition

  // The origin (no segments) handles everything but 0:30 and 1:50, which never finish: it
  // commits 30 and 50 with the records above them in its offset map.
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const stalled = new Set(['0:30', '1:50'])
  const origin = recordingApp({
    topic,
    group,
    count: 1,
    shutdownTimeoutMs: 500,
    before: (p, o) => (stalled.has(`${p}:${o}`) ? gate : undefined),
  })
  await origin.app.start()
  try {
    await waitUntil(
      async () => {
        const c = await committedOffsets(group, topic, 2)
        return (
          c.get(0)?.offset === 30 &&
          mapped(c.get(0)!.metadata, 30).length === 169 &&
          c.get(1)?.offset === 50 &&
          mapped(c.get(1)!.metadata, 50).length === 149
        )
      },
      { timeoutMs: 60_000, message: 'the origin committed 30 and 50 with maps of everything above' },
    )
  } finally {
    await origin.app.stop()
    release()
  }
  assert.equal(origin.all().length, 398)
  const before = await committedOffsets(group, topic, 2)
  assert.deepEqual(mapped(before.get(0)!.metadata, 30), range(31, 200))

  await produceRecords(topic, 200, { partitions: 2 }) // offsets 200-299 in each partition
  const app = { topic, group, count: 3 }
  const distributed = multilane(['segments', 'distribute', '--app', 'test/fixtures/segments/app.ts'], app)
  assert.equal(distributed.code, 0, distributed.stderr)
  assert.match(distributed.stdout, new RegExp(`${topic}#0 +${group}-parallel-0 +- +30 \\+169 mapped`))
  assert.match(distributed.stdout, /wrote 6 offsets to 3 consumer groups/)

  // Every segment holds the origin's offset and map, with the routing fingerprint of the app given.
  const fingerprint = segmentsApp({ bootstrap: 'x:1', topic, group, count: 3 }).definition()
    .consumerGroups[0]!.parallelSegments.fingerprint
  const commits = await commitsOf(segmentGroupsOf(group, 3), topic, 2)
  for (const [segment, [p0, p1]] of Object.entries(commits)) {
    assert.deepEqual([p0![0], mapped(p0![1], 30)], [30, range(31, 200)], segment)
    assert.deepEqual([p1![0], mapped(p1![1], 50)], [50, range(51, 200)], segment)
    assert.equal(decodeCommitMetadata(p0![1]).routing, fingerprint)
  }
  assert.deepEqual(
    (await commitsOf([group], topic, 2))[group]!.map(([o]) => o),
    [30, 50],
    'the origin is kept',
  )

  const segments = recordingApp({ topic, group, count: 3 })
  await segments.app.start()
  try {
    await waitUntil(
      async () => {
        const all = await commitsOf(segmentGroupsOf(group, 3), topic, 2)
        return Object.values(all).every((ps) => ps.every(([o]) => o === 300))
      },
      { timeoutMs: 60_000, message: 'every segment committed at the log end' },
    )
  } finally {
    await segments.app.stop()
  }
  const expected = ['0:30', '1:50', ...[0, 1].flatMap((p) => range(200, 300).map((o) => `${p}:${o}`))]
  assert.deepEqual(
    segments.all().sort(),
    expected.sort(),
    'exactly the records the origin had not done, once each',
  )
  assert.deepEqual(segments.misrouted, [], 'each by its own segment')
  assert.equal(segments.handled.size, 3, 'all three segments took part')
})
