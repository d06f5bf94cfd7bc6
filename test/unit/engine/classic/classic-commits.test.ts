// Commits of a classic group member: they carry the generation id and the coordinator's member
// id; REBALANCE_IN_PROGRESS (the group is completing a rebalance) is retried until it passes;
// ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID fail the commit at once (the member has lost its
// partitions: their records are redelivered, never committed past by a stale member).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type CommitMember, Committer, type SendCommit } from '../../../../src/engine/committer.ts'
import { EngineError } from '../../../../src/engine/errors.ts'

const classicMember = (generation: number): CommitMember => ({
  memberId: 'consumer-1-abc',
  memberEpoch: generation,
  groupInstanceId: null,
  coordinatorNodeId: 1,
  nextHeartbeat: async () => {},
})

function committer(answers: Array<string | undefined>, seen: Array<[string, number]>) {
  const send: SendCommit = async (_node, member) => {
    seen.push([member.memberId, member.memberEpoch])
    return answers.shift()
  }
  return new Committer({
    groupId: 'g',
    member: classicMember(7),
    owns: () => true,
    requestTimeoutMs: 5000,
    send,
    protocol: 'classic',
  })
}

test('REBALANCE_IN_PROGRESS is retried; the commit carries the generation and member id', async () => {
  const seen: Array<[string, number]> = []
  await committer(['REBALANCE_IN_PROGRESS', 'REBALANCE_IN_PROGRESS', undefined], seen).commit([
    { topic: 't', partition: 0, offset: 5 },
  ])
  assert.deepEqual(seen, [
    ['consumer-1-abc', 7],
    ['consumer-1-abc', 7],
    ['consumer-1-abc', 7],
  ])
})

for (const error of ['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']) {
  test(`${error} fails the commit at once (COMMIT_FAILED naming it)`, async () => {
    const seen: Array<[string, number]> = []
    await assert.rejects(
      committer([error, undefined], seen).commit([{ topic: 't', partition: 0, offset: 5 }]),
      (e: unknown) => e instanceof EngineError && e.code === 'COMMIT_FAILED' && e.message.includes(error),
    )
    assert.equal(seen.length, 1, 'not retried')
  })
}
