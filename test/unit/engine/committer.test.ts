// The committer against a fake OffsetCommit sender (multilane's own SendCommit seam): ownership
// is checked when a request goes out, and a stale epoch waits a bounded time for a heartbeat.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type CommitMember, Committer, type SendCommit } from '../../../src/engine/committer.ts'
import type { OffsetToCommit } from '../../../src/engine/types.ts'
import { within } from '../../support/kafka.ts'

function member(overrides: Partial<CommitMember> = {}): CommitMember {
  return {
    memberId: 'm',
    memberEpoch: 3,
    groupInstanceId: null,
    coordinatorNodeId: 1,
    nextHeartbeat: async () => {},
    ...overrides,
  }
}

// Ownership is checked when a commit goes out, not when it was queued: a commit queued behind a
// retrying one and sent after the revocation was acknowledged would rewind the new owner's offset.
test('a commit that waited behind a retrying one leaves out partitions given up meanwhile', async () => {
  const sent: OffsetToCommit[][] = []
  let failFirst = true
  let releaseFirst!: () => void
  const firstFailed = new Promise<void>((r) => (releaseFirst = r))
  let firstSent!: () => void
  const firstOut = new Promise<void>((r) => (firstSent = r))
  const send: SendCommit = async (_node, _member, offsets) => {
    sent.push([...offsets])
    if (failFirst) {
      failFirst = false
      firstSent()
      await firstFailed
      return 'COORDINATOR_LOAD_IN_PROGRESS'
    }
    return undefined
  }
  const owned = new Set(['t#0', 't#1'])
  const committer = new Committer({
    groupId: 'g',
    member: member(),
    owns: (p) => owned.has(`${p.topic}#${p.partition}`),
    requestTimeoutMs: 5000,
    send,
  })
  const first = committer.commit([{ topic: 't', partition: 0, offset: 10 }])
  const second = committer.commit([
    { topic: 't', partition: 0, offset: 20 },
    { topic: 't', partition: 1, offset: 7 },
  ])
  // Partition 0 is revoked (and acknowledged) while the first commit is still out.
  await firstOut
  owned.delete('t#0')
  releaseFirst()
  await first
  await second
  assert.deepEqual(sent, [
    [{ topic: 't', partition: 0, offset: 10 }],
    // The first commit's retry had nothing left to send; the second leaves partition 0 out.
    [{ topic: 't', partition: 1, offset: 7 }],
  ])
})

test('STALE_MEMBER_EPOCH waits for the next heartbeat, never past the request timeout', async () => {
  let waits = 0
  const committer = new Committer({
    groupId: 'g',
    // A membership that stopped heartbeating: its nextHeartbeat honours the deadline it is given.
    member: member({
      nextHeartbeat: async (timeoutMs) => {
        waits++
        await new Promise((r) => setTimeout(r, Math.min(timeoutMs, 50)))
      },
    }),
    owns: () => true,
    requestTimeoutMs: 300,
    send: async () => 'STALE_MEMBER_EPOCH',
  })
  const outcome = await within(
    committer.commit([{ topic: 't', partition: 0, offset: 1 }]).then(
      () => 'committed',
      (e: Error & { code?: string }) => e.code,
    ),
    3000,
  )
  assert.equal(outcome, 'COMMIT_FAILED')
  assert.ok(waits >= 2)
})
