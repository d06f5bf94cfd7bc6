// `multilane share describe` explains its share-partition columns: what the start offset means
// (everything below it is done) and how the lag relates to it, since neither is a consumer
// group's committed offset and lag.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatDescription } from '../../../src/cli/commands/share.ts'

test('the share-partition table is followed by what START-OFFSET and LAG mean', () => {
  const text = formatDescription({
    groupId: 'jobs',
    state: 'Stable',
    groupEpoch: 3,
    assignmentEpoch: 3,
    assignor: 'simple',
    members: [],
    partitions: [{ topic: 'jobs', partition: 0, startOffset: 40, endOffset: 100, lag: 55, leaderEpoch: 0 }],
    configs: {},
  })
  assert.match(text, /jobs +0 +40 +100 +55/)
  assert.match(text, /START-OFFSET: every record below it is done/)
  assert.match(text, /LAG: records from the start\s+offset to the log end not yet done/)
  assert.match(text, /A share group has no committed offset\./)
})
