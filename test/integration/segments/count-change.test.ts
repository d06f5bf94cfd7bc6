// Changing a segmented group's count: the offset commands see every segment group of the origin
// on the cluster, also those of the other count. Count down (4 → 2) with `reset --app <new>
// --force`: the origin resumes at the lowest offset any segment group committed, so the records
// the dropped segments had not finished are handled, and a later collapse of the new app passes
// the dropped groups by. Old segment groups that still have members are refused. Count up
// (2 → 4): the new, never-committed groups do not send everything back to the log start. A share
// group whose name looks like a segment group's is not one: the commands leave it alone.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { listGroups } from '../../../src/admin/groups.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import {
  decodeCommitMetadata,
  encodeCommitMetadata,
} from '../../../src/processing/consumer-group/commit-metadata.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import { segmentsApp } from '../../fixtures/segments/segments-app.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'
import {
  commitOffsets,
  commitsOf,
  multilane,
  multilaneAsync,
  recordingApp,
  segmentGroupsOf,
} from '../../support/segments.ts'
import { createShareMember } from '../../support/share.ts'

const APP = 'test/fixtures/segments/app.ts'

function fingerprintOf(topic: string, group: string, count: number): string {
  return segmentsApp({ bootstrap: 'x:1', topic, group, count }).definition().consumerGroups[0]!
    .parallelSegments.fingerprint
}

/** A topic of one partition with `records` records (record i: offset i, key k(i % 100)). */
async function setUp(prefix: string, records: number) {
  const topic = await createTopic(prefix, 1)
  await produceRecords(topic, records, { partitions: 1 })
  return { topic, group: uniqueName(prefix) }
}

const at = (topic: string, offset: number, routing: string) => [
  { topic, partition: 0, offset, metadata: encodeCommitMetadata({ routing }) },
]

test('count 4 → 2, reset --app <new> --force: what the dropped segments had not finished is handled', async () => {
  const { topic, group } = await setUp('seg-count-down', 400)
  const four = fingerprintOf(topic, group, 4)
  const two = fingerprintOf(topic, group, 2)
  const groups = segmentGroupsOf(group, 4)
  // Four segments committed 400/400/400/200: segment 3 had not finished its records from 200.
  for (const [i, offset] of [400, 400, 400, 200].entries())
    await commitOffsets(groups[i]!, at(topic, offset, four))
  const unfinished = Array.from({ length: 200 }, (_, i) => 200 + i).filter(
    (o) => defaultSegmentReducer(`k${o % 100}`, 4) === 3,
  )
  assert.ok(unfinished.length > 20, 'segment 3 owns records above 200')

  const app = { topic, group, count: 2 }
  const reset = multilane(['segments', 'reset', '--app', APP, '--force'], app)
  assert.equal(reset.code, 0, reset.stderr)
  assert.match(
    reset.stdout,
    new RegExp(`also segment groups of another count on the cluster: ${groups[2]}, ${groups[3]}`),
  )
  assert.match(
    reset.stdout,
    new RegExp(
      `${groups[3]} is not one of the app's 2 segments .*the origin gets 200, the lowest offset a segment group committed \\(${groups[3]}\\), without a map: the records from 200 that ${groups[0]} already processed \\(below 400\\), ${groups[1]} already processed \\(below 400\\), ${groups[2]} already processed \\(below 400\\) run again; nothing is skipped`,
    ),
  )
  const written = await commitsOf([group, ...groups], topic, 1)
  assert.equal(written[group]![0]![0], 200, 'the origin resumes at the lowest segment offset')
  for (const g of groups) {
    const [offset, metadata] = written[g]![0]!
    assert.deepEqual([offset, decodeCommitMetadata(metadata).routing], [200, two], g)
  }

  // The two segments of the new app handle every record from 200: segment 3's unfinished ones too.
  const segments = recordingApp({ topic, group, count: 2 })
  await segments.app.start()
  try {
    await waitUntil(
      async () => {
        const c = await commitsOf(groups.slice(0, 2), topic, 1)
        return groups.slice(0, 2).every((g) => c[g]![0]![0] === 400) && segments.all().length >= 200
      },
      { timeoutMs: 60_000, message: 'both segments committed at 400 with 200 records handled' },
    )
  } finally {
    await segments.app.stop()
  }
  const handled = segments.all().map((r) => Number(r.split(':')[1]))
  assert.deepEqual(
    handled.sort((a, b) => a - b),
    Array.from({ length: 200 }, (_, i) => 200 + i),
  )
  assert.deepEqual(segments.misrouted, [])
  assert.ok(unfinished.every((o) => handled.includes(o)))

  // Collapsing the new app later: the dropped groups carry its fingerprint (the reset handed them
  // over) and are passed by — equal offsets, exact, no --force.
  const collapsed = multilane(['segments', 'collapse', '--app', APP], app)
  assert.equal(collapsed.code, 0, collapsed.stderr)
  assert.doesNotMatch(collapsed.stdout, /cannot be told/)
  assert.equal((await committedOffsets(group, topic, 1)).get(0)?.offset, 400)
})

test("count 4 → 2: the old count's segments that still run are refused (collapse, reset --force)", async () => {
  const { topic, group } = await setUp('seg-count-members', 100)
  const groups = segmentGroupsOf(group, 4)
  const old = recordingApp({ topic, group, count: 4 })
  await old.app.start({ segments: [2, 3] })
  try {
    await waitUntil(
      async () => {
        const c = await commitsOf(groups.slice(2), topic, 1)
        return groups.slice(2).every((g) => c[g]![0]![0] === 100)
      },
      { timeoutMs: 60_000, message: 'old segments 2 and 3 committed at the log end' },
    )
    for (const command of ['collapse', 'reset']) {
      const r = await multilaneAsync(['segments', command, '--app', APP, '--force'], {
        topic,
        group,
        count: 2,
      })
      assert.equal(r.code, 1, `${command}: ${r.stdout}`)
      for (const g of groups.slice(2)) {
        assert.match(
          r.stderr,
          new RegExp(`Consumer group ${g} has 1 active member: stop it before changing offsets`),
        )
      }
    }
    assert.equal((await committedOffsets(group, topic, 1)).get(0)?.offset ?? -1, -1, 'nothing written')
  } finally {
    await old.app.stop()
  }
})

test('count 2 → 4, reset --app <new> --force: the new groups without a commit do not replay the log', async () => {
  const { topic, group } = await setUp('seg-count-up', 100)
  const two = fingerprintOf(topic, group, 2)
  const four = fingerprintOf(topic, group, 4)
  const groups = segmentGroupsOf(group, 4)
  for (const g of groups.slice(0, 2)) await commitOffsets(g, at(topic, 100, two))

  const reset = multilane(['segments', 'reset', '--app', APP, '--force'], { topic, group, count: 4 })
  assert.equal(reset.code, 0, reset.stderr)
  assert.match(
    reset.stdout,
    new RegExp(
      `the origin gets 100, the lowest offset a segment group committed \\(${groups[0]}, ${groups[1]}\\), without a map: no segment group processed anything above it, so nothing runs again; nothing is skipped \\(${groups[2]}, ${groups[3]} never committed: not counted\\)`,
    ),
  )
  const written = await commitsOf([group, ...groups], topic, 1)
  assert.equal(written[group]![0]![0], 100)
  for (const g of groups) {
    const [offset, metadata] = written[g]![0]!
    assert.deepEqual([offset, decodeCommitMetadata(metadata).routing], [100, four], g)
  }
})

test('count 2 → 4 → 2 → 1 with collapse and distribute: every record handled exactly once', async () => {
  const topic = await createTopic('seg-count-cycle', 1)
  const group = uniqueName('seg-count-cycle')
  let produced = 0
  const handled: number[] = []
  /** Produces `n` more records (key k(i % 100)) and runs `count` segments until they committed the log end. */
  const runWith = async (count: number, n: number) => {
    await produceRecords(topic, n, {
      partitions: 1,
      record: (i) => ({
        key: `k${(produced + i) % 100}`,
        value: `v${produced + i}`,
        partition: 0,
        headers: {},
      }),
    })
    produced += n
    const run = recordingApp({ topic, group, count })
    const kafkaGroups = count > 1 ? segmentGroupsOf(group, count) : [group]
    await run.app.start()
    try {
      await waitUntil(
        async () => {
          const c = await commitsOf(kafkaGroups, topic, 1)
          return kafkaGroups.every((g) => c[g]![0]![0] === produced)
        },
        { timeoutMs: 60_000, message: `count ${count}: every group committed at ${produced}` },
      )
    } finally {
      await run.app.stop()
    }
    assert.deepEqual(run.misrouted, [])
    handled.push(...run.all().map((r) => Number(r.split(':')[1])))
  }
  const move = (from: number, to: number) => {
    const collapse = multilane(['segments', 'collapse', '--app', APP, '--force'], {
      topic,
      group,
      count: from,
    })
    assert.equal(collapse.code, 0, collapse.stderr)
    assert.doesNotMatch(collapse.stdout, /cannot be told/, `collapse of count ${from} is exact`)
    if (to === 1) return
    const distribute = multilane(['segments', 'distribute', '--app', APP, '--force'], {
      topic,
      group,
      count: to,
    })
    assert.equal(distribute.code, 0, distribute.stderr)
  }

  await runWith(2, 200)
  move(2, 4)
  await runWith(4, 200)
  move(4, 2) // -parallel-2 and -3 are handed over: the next collapse of count 2 passes them by
  await runWith(2, 200)
  move(2, 1)
  await runWith(1, 100)

  assert.equal(handled.length, 700, 'no record twice')
  assert.deepEqual(
    handled.sort((a, b) => a - b),
    Array.from({ length: 700 }, (_, i) => i),
  )
})

test('a share group named like a segment group of the origin is not one: distribute neither reads nor writes it', async () => {
  const { topic, group } = await setUp('seg-share-name', 50)
  await commitOffsets(group, [{ topic, partition: 0, offset: 20, metadata: '' }])
  // Another application's share group, on the same topic, whose name is `<origin>-parallel-7`.
  const shareName = `${group}-parallel-7`
  const { consumer } = createShareMember({ groupId: shareName, topics: [topic] })
  await consumer.start()
  const cluster = new KafkaCluster(
    resolveConnection({ bootstrap: bootstrapServers(), clientId: 'seg-share-name' }),
  )
  try {
    await waitUntil(
      async () => (await listGroups(cluster)).some((g) => g.group === shareName && g.type === 'share'),
      {
        message: `share group ${shareName} is listed`,
      },
    )
  } finally {
    await cluster.close()
  }
  try {
    const r = await multilaneAsync(['segments', 'distribute', '--app', APP], { topic, group, count: 2 })
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stdout, new RegExp(shareName))
    const written = await commitsOf(segmentGroupsOf(group, 2), topic, 1)
    for (const g of segmentGroupsOf(group, 2)) assert.equal(written[g]![0]![0], 20, g)
  } finally {
    await consumer.close()
  }
})
