// `multilane segments check` on a skewed sample (the seed's collision example: keys "0", "5",
// "14", "23" with 5 segments and Karafka's reducer use 2 segments): records, share and keys per
// segment, idle and overloaded segments flagged, the other reducers on the same sample; only
// the last N records per partition are read and nothing is committed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { committedOffsets, createTopic, produceRecords, uniqueName } from '../../support/kafka.ts'
import { multilane, segmentGroupsOf } from '../../support/segments.ts'

test('segments check: the Karafka reducer leaves 3 of 5 segments idle on the seed keys; the report says so', async () => {
  const topic = await createTopic('seg-check', 2)
  const group = uniqueName('seg-check')
  const keys = ['0', '5', '14', '23']
  // 500 records per partition; the last 100 of each (the sample) cycle through the four keys.
  await produceRecords(topic, 1000, {
    partitions: 2,
    record: (i) => ({
      key: i < 800 ? 'old' : keys[i % 4]!,
      value: `v${i}`,
      partition: Math.floor(i / 4) % 2,
      headers: {},
    }),
  })
  const app = { topic, group, count: 5, reducer: 'karafka' as const }
  const json = multilane(
    ['segments', 'check', '--app', 'test/fixtures/segments/app.ts', '--sample', '100', '--json'],
    app,
  )
  assert.equal(json.code, 0, json.stderr)
  const report = JSON.parse(json.stdout) as {
    groups: Array<{
      sampled: number
      appReducer: string
      segments: Array<{ records: number; keys: number; idle: boolean; hot: boolean }>
      reducers: Array<{ reducer: string; records: number[]; idle: number; hot: number }>
    }>
  }
  const g = report.groups[0]!
  assert.equal(g.sampled, 200)
  assert.equal(g.appReducer, 'karafka')
  // "0" and "5" → segment 3, "14" and "23" → segment 1 (Ruby's byte sum).
  assert.deepEqual(
    g.segments.map((s) => [s.records, s.keys, s.idle, s.hot]),
    [
      [0, 0, true, false],
      [100, 2, false, true],
      [0, 0, true, false],
      [100, 2, false, true],
      [0, 0, true, false],
    ],
  )
  assert.deepEqual(
    g.reducers.map((r) => [r.reducer, r.records, r.idle, r.hot]),
    [
      ['app', [0, 100, 0, 100, 0], 3, 2],
      ['default', [100, 50, 50, 0, 0], 2, 1],
      ['karafka', [0, 100, 0, 100, 0], 3, 2],
    ],
  )

  const text = multilane(
    ['segments', 'check', '--app', 'test/fixtures/segments/app.ts', '--sample', '100'],
    app,
  )
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /5 segments, 200 records sampled \(the last 100 or fewer of each of 2 partitions/)
  assert.match(text.stdout, /\n {2}0 +0 +0\.0% +0 +idle\n/)
  assert.match(text.stdout, /\n {2}1 +100 +50\.0% +2 +over 1\.5× its fair share \(20\.0%\)\n/)
  assert.match(text.stdout, /this app's \(karafka\) +0 +100 +0 +100 +0 +3 +2/)
  assert.match(text.stdout, /default \(hash\) +100 +50 +50 +0 +0 +2 +1/)
  for (const g of [group, ...segmentGroupsOf(group, 5)]) {
    const offsets = [...(await committedOffsets(g, topic, 2)).values()].map((c) => c.offset)
    assert.deepEqual(offsets, [-1, -1], `${g} has no commit`)
  }
})
