// A share member killed with SIGKILL mid-run: the records it held locked go to the other
// members (the broker releases them when the connection drops, at the latest when the lock
// times out), none lost.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { describeShareGroup } from '../../../src/admin/share.ts'
import { spawnFixture } from '../../support/fixture-process.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import {
  createShareMember,
  kafkaOptions,
  ShareWorker,
  shareGroup,
  waitForAssignment,
} from '../../support/share.ts'

describe('share member crash', () => {
  it('a member SIGKILLed mid-run: its locked records are redelivered to the others, none lost', () =>
    crashMidRun('SIGKILL'))

  it('a member frozen mid-run (SIGSTOP, connection open): its locks time out and the others get the records', () =>
    crashMidRun('SIGSTOP'))
})

async function crashMidRun(signal: 'SIGKILL' | 'SIGSTOP'): Promise<void> {
  const lockMs = 5000
  const total = 2000
  const topic = await createTopic('share-crash', 1)
  const groupId = await shareGroup('share-crash', { recordLockDurationMs: lockMs })
  const holding = new Set<number>()
  // Accepts the child sent; the kill may come before the broker's answer, so whether each was
  // applied is for the broker to say (an accept it did not apply comes back to us).
  const acceptingByChild = new Set<number>()
  let ready = false
  const child = spawnFixture(
    'share-member-process.ts',
    [bootstrapServers().join(','), topic, groupId],
    (line) => {
      if (line === 'ready') ready = true
      else if (line.startsWith('holding:')) holding.add(Number(line.slice(8)))
      else if (line.startsWith('accepting:')) acceptingByChild.add(Number(line.slice(10)))
    },
  )
  const exited = once(child, 'exit')
  await waitUntil(() => ready, { message: 'the child member joined' })
  const members = [0, 1].map(() => createShareMember({ groupId, topics: [topic], maxRecords: 50 }))
  await Promise.all(members.map((m) => m.consumer.start()))
  await waitForAssignment(
    members.map((m) => m.consumer),
    topic,
    1,
  )
  const workers = members.map((m) => new ShareWorker(m.consumer))
  await produceRecords(topic, total, { partitions: 1, batchSize: 50 })
  await waitUntil(() => holding.size >= 10, { message: 'the child holds records' })
  child.kill(signal)
  const killedAt = Date.now()
  if (signal === 'SIGKILL') await exited
  const held = new Set(holding)

  const acceptedByUs = () => new Set(workers.flatMap((w) => w.applied('accept')))
  await waitUntil(() => [...held].every((o) => acceptedByUs().has(o)), {
    timeoutMs: 60_000,
    message: `the ${held.size} records the child held accepted by the others`,
  })
  const heldBackAfterMs = Date.now() - killedAt
  // Nothing left for the group: the broker counts no record as not yet acknowledged.
  await waitUntil(
    async () => {
      const d = await describeShareGroup(kafkaOptions(), groupId)
      return d.partitions.length === 1 && d.partitions[0]!.lag === 0
    },
    { timeoutMs: 30_000, message: 'share-partition lag 0' },
  )
  await Promise.all(workers.map((w) => w.stop()))
  if (signal === 'SIGSTOP') {
    child.kill('SIGKILL')
    await exited
  }

  const deliveries = workers.flatMap((w) => w.deliveries)
  for (const offset of held) {
    const again = deliveries.filter((r) => r.offset === offset)
    assert.ok(
      again.length >= 1 && again.every((r) => r.deliveryCount >= 2),
      `held offset ${offset} came back to a surviving member with a higher delivery count`,
    )
  }
  const ours = acceptedByUs()
  const unaccounted = [...Array(total).keys()].filter((o) => !ours.has(o) && !acceptingByChild.has(o))
  assert.deepEqual(unaccounted, [], 'every record accepted by a survivor or by the child before it died')
  process.stderr.write(
    `crash test: child held ${held.size} records; all back and accepted ${heldBackAfterMs} ms after ${signal} (lock ${lockMs} ms)\n`,
  )
}
