// The offset commands on a real broker: distribute's refusal and --force, collapse with equal
// offsets, reset refused as a whole (nothing written when either phase would fail; Karafka writes
// its collapse first), --dry-run, a repeated reset that changes nothing, an unknown group, an app
// without segments, active members.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  decodeCommitMetadata,
  encodeCommitMetadata,
} from '../../../src/processing/consumer-group/commit-metadata.ts'
import { decodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import { segmentsApp } from '../../fixtures/segments/segments-app.ts'
import { createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import {
  commitOffsets,
  commitsOf,
  multilane,
  multilaneAsync,
  recordingApp,
  segmentGroupsOf,
} from '../../support/segments.ts'

const APP = 'test/fixtures/segments/app.ts'

function fingerprintOf(topic: string, group: string, count: number): string {
  return segmentsApp({ bootstrap: 'x:1', topic, group, count }).definition().consumerGroups[0]!
    .parallelSegments.fingerprint
}

/** A topic of 2 partitions × 50 records and a group name; the app module's settings for it. */
async function setUp(prefix: string) {
  const topic = await createTopic(prefix, 2)
  await produceRecords(topic, 100, { partitions: 2 })
  const group = uniqueName(prefix)
  return { topic, group, app: { topic, group, count: 3 }, segments: segmentGroupsOf(group, 3) }
}

test('distribute refuses segments with offsets > 0 (0 passes), --dry-run writes nothing, --force overwrites', async () => {
  const { topic, group, app, segments } = await setUp('seg-distribute')
  await commitOffsets(group, [
    { topic, partition: 0, offset: 40, metadata: encodeCommitMetadata({}) },
    { topic, partition: 1, offset: 45, metadata: encodeCommitMetadata({}) },
  ])
  await commitOffsets(segments[1]!, [{ topic, partition: 0, offset: 12, metadata: encodeCommitMetadata({}) }])
  await commitOffsets(segments[2]!, [{ topic, partition: 1, offset: 0, metadata: encodeCommitMetadata({}) }])
  const all = [group, ...segments]
  const before = await commitsOf(all, topic, 2)

  const refused = multilane(['segments', 'distribute', '--app', APP], app)
  assert.equal(refused.code, 1)
  assert.match(
    refused.stderr,
    new RegExp(`^Parallel segment ${segments[1]} already has offset 12 set for ${topic}#0\n`),
  )
  assert.doesNotMatch(refused.stderr, /already has offset 0/)
  assert.deepEqual(await commitsOf(all, topic, 2), before, 'nothing written')

  const dry = multilane(['segments', 'distribute', '--app', APP, '--force', '--dry-run'], app)
  assert.equal(dry.code, 0, dry.stderr)
  assert.match(dry.stdout, new RegExp(`${topic}#0 +${segments[1]} +12 +40`))
  assert.match(dry.stdout, /dry run: nothing written \(6 offsets would be\)/)
  const json = multilane(['segments', 'distribute', '--app', APP, '--force', '--dry-run', '--json'], app)
  const report = JSON.parse(json.stdout) as {
    dryRun: boolean
    written: number
    groups: Array<{ plan: { writes: unknown[] } }>
  }
  assert.deepEqual([report.dryRun, report.written, report.groups[0]!.plan.writes.length], [true, 0, 6])
  assert.deepEqual(await commitsOf(all, topic, 2), before, 'a dry run writes nothing')

  const forced = multilane(['segments', 'distribute', '--app', APP, '--force'], app)
  assert.equal(forced.code, 0, forced.stderr)
  const after = await commitsOf(segments, topic, 2)
  for (const s of segments) {
    assert.deepEqual(
      after[s]!.map(([o, m]) => [o, decodeCommitMetadata(m).routing]),
      [
        [40, fingerprintOf(topic, group, 3)],
        [45, fingerprintOf(topic, group, 3)],
      ],
    )
  }
})

test('collapse with equal offsets needs no --force; reset writes nothing when a phase would fail', async () => {
  const { topic, group, app, segments } = await setUp('seg-reset')
  const rf = fingerprintOf(topic, group, 3)
  const at = (offset: number, partition = 0) => ({
    topic,
    partition,
    offset,
    metadata: encodeCommitMetadata({ routing: rf }),
  })
  await commitOffsets(group, [at(5), at(5, 1)])
  // Without the fingerprint: distribute would change them (segments holding exactly what it writes pass).
  const plain = (offset: number, partition = 0) => ({
    ...at(offset, partition),
    metadata: encodeCommitMetadata({}),
  })
  for (const s of segments) await commitOffsets(s, [plain(30), plain(50, 1)])
  const all = [group, ...segments]

  // Collapse passes (equal offsets), distribute's check fails (segments have offsets): nothing written.
  const before = await commitsOf(all, topic, 2)
  const reset = multilane(['segments', 'reset', '--app', APP], app)
  assert.equal(reset.code, 1)
  assert.equal(
    reset.stderr,
    segments.map((s) => `Parallel segment ${s} already has offset 30 set for ${topic}#0\n`).join('') +
      segments.map((s) => `Parallel segment ${s} already has offset 50 set for ${topic}#1\n`).join('') +
      'nothing written (pass --force to write anyway, --dry-run to see the plan)\n',
  )
  assert.deepEqual(await commitsOf(all, topic, 2), before, 'the collapse was not written either')

  // Both phases fail: both phases' messages, nothing written.
  await commitOffsets(segments[2]!, [at(33)])
  const both = multilane(['segments', 'reset', '--app', APP], app)
  assert.equal(both.code, 1)
  assert.match(
    both.stderr,
    new RegExp(
      `^Inconclusive offsets for ${topic}#0: 30, 33\nParallel segments for ${group} have inconclusive offsets\nParallel segment`,
    ),
  )
  assert.deepEqual(
    (await commitsOf([group], topic, 2))[group]!.map(([o]) => o),
    [5, 5],
  )

  // --force: the exact collapse (30-32 read: done iff segment 2 has them, i.e. below 33), then distributed.
  const forced = multilane(['segments', 'reset', '--app', APP, '--force'], app)
  assert.equal(forced.code, 0, forced.stderr)
  const segmentAt = (offset: number) => defaultSegmentReducer(`k${(2 * offset) % 100}`, 3) // partition 0
  const undone = [30, 31, 32].filter((o) => segmentAt(o) !== 2)
  const base = undone[0] ?? 33
  const done = [30, 31, 32].filter((o) => o > base && segmentAt(o) === 2)
  const written = await commitsOf(all, topic, 2)
  for (const g of all) {
    const [offset, metadata] = written[g]![0]!
    const map = decodeCommitMetadata(metadata).offsetMap
    assert.deepEqual([offset, map ? decodeOffsetMap(offset, map.token) : []], [base, done], g)
    assert.equal(decodeCommitMetadata(metadata).routing, g === group ? undefined : rf, g)
    assert.equal(written[g]![1]![0], 50, `${g}: partition 1`)
  }

  // Collapse with equal offsets: no --force needed.
  for (const s of segments) await commitOffsets(s, [at(40), at(50, 1)])
  const collapsed = multilane(['segments', 'collapse', '--app', APP], app)
  assert.equal(collapsed.code, 0, collapsed.stderr)
  assert.match(collapsed.stdout, new RegExp(`${topic}#0 +${group} +${base}( \\+\\d mapped)? +40\n`))
  assert.deepEqual(
    (await commitsOf([group], topic, 2))[group]!.map(([o]) => o),
    [40, 50],
  )
})

test('a reset after a distribute, nothing changed since, says nothing to change and exits 0', async () => {
  const { topic, group, app, segments } = await setUp('seg-reset-again')
  await commitOffsets(group, [
    { topic, partition: 0, offset: 40, metadata: encodeCommitMetadata({}) },
    { topic, partition: 1, offset: 45, metadata: encodeCommitMetadata({}) },
  ])
  const distributed = await multilaneAsync(['segments', 'distribute', '--app', APP], app)
  assert.equal(distributed.code, 0, distributed.stderr)
  const all = [group, ...segments]
  const before = await commitsOf(all, topic, 2)

  for (const args of [['--dry-run'], []]) {
    const again = await multilaneAsync(['segments', 'reset', '--app', APP, ...args], app)
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stderr, '')
    assert.equal(again.stdout.match(/nothing to change/g)?.length, 1, again.stdout)
    assert.doesNotMatch(again.stdout, /nothing written|would be|wrote|PARTITION/)
  }
  assert.deepEqual(await commitsOf(all, topic, 2), before, 'nothing written')
})

test('an unknown group fails (1); an app without segments is no error (0); active members are refused (1)', async () => {
  const { topic, group, app, segments } = await setUp('seg-members')
  const unknown = multilane(['segments', 'collapse', '--app', APP, '--groups', group, 'nope'], app)
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, new RegExp(`Consumer group nope was not found \\(the app defines ${group}\\)`))
  const plain = multilane(['segments', 'distribute', '--app', APP], { ...app, count: 1 })
  assert.deepEqual(
    [plain.code, plain.stdout],
    [0, 'No consumer groups with parallel segments configuration found\n'],
  )
  const named = multilane(['segments', 'distribute', '--app', APP, '--groups', group], { ...app, count: 1 })
  assert.equal(named.code, 1)
  assert.match(named.stderr, /Consumer group \S+ was not found among the groups with parallel segments/)

  const running = recordingApp({ topic, group, count: 3 })
  await running.app.start()
  try {
    await waitUntil(() => running.all().length === 100, { message: 'the segments consumed everything' })
    for (const command of ['distribute', 'collapse', 'reset']) {
      // Not spawnSync: the members in this process must keep heartbeating while the command runs.
      const r = await multilaneAsync(['segments', command, '--app', APP, '--force'], app)
      assert.equal(r.code, 1, command)
      for (const s of segments) {
        assert.match(
          r.stderr,
          new RegExp(`Consumer group ${s} has 1 active member: stop it before changing offsets`),
          command,
        )
      }
    }
  } finally {
    await running.app.stop()
  }
})
