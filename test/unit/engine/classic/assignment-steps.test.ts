// The leader runs a large group's assignment in time slices: the process's timers (heartbeats,
// lock renewals, commit ticks) run while it computes, and the result is the one the assignor
// gives in one go.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runSliced, runToEnd } from '../../../../src/engine/classic/assignment-steps.ts'
import { encodeSubscription } from '../../../../src/engine/classic/consumer-protocol.ts'
import { leaderAssignmentSteps } from '../../../../src/engine/classic/leader.ts'

/** 10,000 partitions (100 topics × 100) over 200 members with unequal subscriptions. */
function largeGroup() {
  const counts = new Map<string, number>()
  for (let t = 0; t < 100; t++) counts.set(`t${t}`, 100)
  const topics = [...counts.keys()]
  const members = Array.from({ length: 200 }, (_, i) => ({
    memberId: `m${String(i).padStart(3, '0')}`,
    groupInstanceId: null,
    metadata: encodeSubscription({
      topics: topics.filter((_, t) => (t + i) % 3 !== 0),
      userData: null,
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    }),
  }))
  return { members, counts }
}

test("a large group's cooperative-sticky assignment lets timers run while it computes, and gives the one-go result", async () => {
  const { members, counts } = largeGroup()
  const inOneGo = runToEnd(leaderAssignmentSteps(members, 'cooperative-sticky', counts))
  let ticks = 0
  const timer = setInterval(() => ticks++, 0)
  try {
    const sliced = await runSliced(leaderAssignmentSteps(members, 'cooperative-sticky', counts))
    assert.ok(ticks > 0, 'a timer ran during the assignment')
    assert.deepEqual(sliced, inOneGo)
  } finally {
    clearInterval(timer)
  }
})
