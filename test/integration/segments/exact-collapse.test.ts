// Collapsing segments back into their origin group: segments that stopped at different offsets are refused without
// --force (Karafka's messages); with --force the origin gets the lowest offset plus the exact
// map of what the segments did, and a restarted origin processes only what no segment finished.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeCommitMetadata } from '../../../src/processing/consumer-group/commit-metadata.ts'
import { decodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import { committedOffsets, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { commitsOf, multilane, recordingApp, segmentGroupsOf } from '../../support/segments.ts'

const APP = 'test/fixtures/segments/app.ts'

test('collapse: differing offsets refused, then --force writes the exact map; the origin redoes only the unfinished', async () => {
  const topic = await createTopic('seg-collapse', 2)
  const group = uniqueName('seg-collapse')
  await produceRecords(topic, 200, { partitions: 2 }) // record i: partition i % 2, key k(i % 100)
  const segmentAt = (offset: number) => defaultSegmentReducer(`k${(2 * offset) % 100}`, 3) // partition 0
  const s1 = Array.from({ length: 100 }, (_, o) => o).find((o) => o >= 20 && segmentAt(o) === 1)!
  const s2 = Array.from({ length: 100 }, (_, o) => o).find((o) => o >= 60 && segmentAt(o) === 2)!

  // Segments 1 and 2 never finish one record of partition 0 each; everything else is done.
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const segments = recordingApp({
    topic,
    group,
    count: 3,
    shutdownTimeoutMs: 500,
    before: (p, o) => (p === 0 && (o === s1 || o === s2) ? gate : undefined),
  })
  const groups = segmentGroupsOf(group, 3)
  await segments.app.start()
  try {
    await waitUntil(
      async () => {
        const c = await commitsOf(groups, topic, 2)
        return (
          c[groups[0]!]![0]![0] === 100 &&
          c[groups[1]!]![0]![0] === s1 &&
          c[groups[2]!]![0]![0] === s2 &&
          groups.every((g) => c[g]![1]![0] === 100) &&
          segments.all().length === 198
        )
      },
      {
        timeoutMs: 60_000,
        message: `segments at 100, ${s1} and ${s2} on partition 0, all at 100 on partition 1`,
      },
    )
    // The last commits carry the maps of everything done above the stalled records.
    await waitUntil(
      async () => {
        const c = await commitsOf(groups.slice(1), topic, 1)
        return [s1, s2].every((s, i) => {
          const [offset, metadata] = c[groups[i + 1]!]![0]!
          const map = decodeCommitMetadata(metadata).offsetMap
          return offset === s && map !== undefined && decodeOffsetMap(s, map.token).at(-1) === 99
        })
      },
      { message: 'segments 1 and 2 committed maps up to 99' },
    )
  } finally {
    await segments.app.stop()
    release()
  }
  const app = { topic, group, count: 3 }
  const before = await commitsOf([group, ...groups], topic, 2)

  const refused = multilane(['segments', 'collapse', '--app', APP], app)
  assert.equal(refused.code, 1, refused.stdout)
  assert.equal(
    refused.stderr,
    `Inconclusive offsets for ${topic}#0: ${s1}, ${s2}, 100\nParallel segments for ${group} have inconclusive offsets\n` +
      'nothing written (pass --force to write anyway, --dry-run to see the plan)\n',
  )
  assert.deepEqual(await commitsOf([group, ...groups], topic, 2), before, 'nothing written')

  const forced = multilane(['segments', 'collapse', '--app', APP, '--force'], app)
  assert.equal(forced.code, 0, forced.stderr)
  assert.match(forced.stdout, new RegExp(`${topic}#0 +${group} +- +${s1} \\+${98 - s1} mapped`))
  assert.match(forced.stdout, new RegExp(`forced: Inconclusive offsets for ${topic}#0`))
  const origin = await committedOffsets(group, topic, 2)
  const map = decodeCommitMetadata(origin.get(0)!.metadata).offsetMap!
  assert.equal(origin.get(0)!.offset, s1)
  assert.deepEqual(
    decodeOffsetMap(s1, map.token),
    Array.from({ length: 99 - s1 }, (_, i) => s1 + 1 + i).filter((o) => o !== s2),
    'every record above the lowest offset is done but the other stalled one',
  )
  assert.equal(origin.get(1)!.offset, 100)
  assert.deepEqual(
    await commitsOf(groups, topic, 2),
    Object.fromEntries(groups.map((g) => [g, before[g]])),
    'the segment groups are kept',
  )

  // The origin runs again (count 1): only the two records no segment finished.
  const restarted = recordingApp({ topic, group, count: 1 })
  await restarted.app.start()
  try {
    await waitUntil(
      async () => {
        const c = await committedOffsets(group, topic, 2)
        return c.get(0)?.offset === 100 && c.get(1)?.offset === 100
      },
      { timeoutMs: 60_000, message: 'the origin committed at the log end' },
    )
  } finally {
    await restarted.app.stop()
  }
  assert.deepEqual(restarted.all().sort(), [`0:${s1}`, `0:${s2}`].sort())
})
