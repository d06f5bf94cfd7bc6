// A classic-protocol group member: it joins with JoinGroup (again with the member id the
// coordinator requires), assigns as the leader, takes its assignment from SyncGroup, heartbeats
// with its generation; with a cooperative assignor it revokes only what the new assignment
// leaves out and rejoins at once after revoking, keeps its partitions through a rebalance, loses
// them (no commit) when fenced, and stops for good when its static instance id is taken over;
// with an eager assignor it revokes everything before rejoining. A scripted fake cluster, no broker.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { joinGroupV9, syncGroupV5 } from '@platformatic/kafka'
import { cooperativeStickyAssignor } from '../../../../src/engine/classic/assignors/cooperative-sticky.ts'
import { rangeAssignor } from '../../../../src/engine/classic/assignors/range.ts'
import { ClassicMembership } from '../../../../src/engine/classic/classic-membership.ts'
import { ClassicResponseError } from '../../../../src/engine/classic/classic-requests.ts'
import { encodeAssignment, encodeSubscription } from '../../../../src/engine/classic/consumer-protocol.ts'
import { CLASSIC_ASSIGNORS } from '../../../../src/engine/classic/leader.ts'
import type { TopicPartition } from '../../../../src/engine/types.ts'
import { FakeCluster } from '../../../support/fake-cluster.ts'

const error = (name: string, response: unknown = { errorCode: 1 }) => new ClassicResponseError(name, response)

function joined(
  generationId: number,
  memberId: string,
  leader: string,
  members: joinGroupV9.JoinGroupResponseMember[] = [],
  protocolName = 'cooperative-sticky',
): joinGroupV9.JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    generationId,
    protocolType: 'consumer',
    protocolName,
    leader,
    skipAssignment: false,
    memberId,
    members,
  }
}

function synced(partitions: number[], topic = 't'): syncGroupV5.SyncGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    protocolType: 'consumer',
    protocolName: 'cooperative-sticky',
    assignment: encodeAssignment({
      assignedPartitions: partitions.length ? [{ topic, partitions }] : [],
      userData: null,
    }),
  }
}

const beatOk = { throttleTimeMs: 0, errorCode: 0 }

/** Records the reconciler's calls, in order. */
function recorder() {
  const calls: Array<{ op: 'assign' | 'revoke' | 'lost'; partitions: number[] }> = []
  const nums = (ps: TopicPartition[]) => ps.map((p) => p.partition).sort((a, b) => a - b)
  return {
    calls,
    reconciler: {
      assign: async (ps: TopicPartition[]) => {
        calls.push({ op: 'assign', partitions: nums(ps) })
      },
      revoke: async (ps: TopicPartition[], lost: boolean) => {
        calls.push({ op: lost ? 'lost' : 'revoke', partitions: nums(ps) })
      },
    },
  }
}

function membership(fake: FakeCluster, reconciler: ReturnType<typeof recorder>['reconciler'], extra = {}) {
  return new ClassicMembership(
    fake.cluster,
    {
      groupId: 'g',
      topics: ['t'],
      sessionTimeoutMs: 45_000,
      rebalanceTimeoutMs: 60_000,
      heartbeatIntervalMs: 20,
      assignors: CLASSIC_ASSIGNORS.filter((a) => a.rebalanceProtocol === 'cooperative'),
      ...extra,
    },
    reconciler,
  )
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('ClassicMembership', () => {
  it('joins again with the member id MEMBER_ID_REQUIRED gives, assigns as leader, heartbeats with the generation', async () => {
    const fake = new FakeCluster().topic('t', [1, 1, 1])
    const own = encodeSubscription({
      topics: ['t'],
      userData: null,
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    })
    fake
      .script('JoinGroup', error('MEMBER_ID_REQUIRED', { ...joined(-1, 'm-1', ''), errorCode: 79 }))
      .script(
        'JoinGroup',
        joined(1, 'm-1', 'm-1', [{ memberId: 'm-1', groupInstanceId: null, metadata: own }]),
      )
      .otherwise('SyncGroup', async () => synced([0, 1, 2]))
      .otherwise('Heartbeat', beatOk)
    const r = recorder()
    const m = membership(fake, r.reconciler)
    await m.start()
    assert.equal(m.memberId, 'm-1')
    assert.equal(m.memberEpoch, 1)
    await until(
      () => r.calls.length === 1 && fake.requestsOf('Heartbeat').length >= 2,
      'assignment and heartbeats',
    )
    assert.deepEqual(r.calls, [{ op: 'assign', partitions: [0, 1, 2] }])
    assert.equal(fake.requestsOf('JoinGroup').length, 2)
    assert.deepEqual(
      m.owned().map((p) => p.partition),
      [0, 1, 2],
    )
    await m.leave()
    assert.equal(fake.requestsOf('LeaveGroup').length, 1, 'a dynamic member leaves')
  })

  it('the leader rejoins when a topic it assigned gets more partitions, so the new ones are read', async () => {
    const fake = new FakeCluster().topic('t', [1, 1])
    const own = encodeSubscription({
      topics: ['t'],
      userData: null,
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    })
    const members = [{ memberId: 'm-1', groupInstanceId: null, metadata: own }]
    fake
      .script('JoinGroup', joined(1, 'm-1', 'm-1', members), joined(2, 'm-1', 'm-1', members))
      .script('SyncGroup', synced([0, 1]), synced([0, 1, 2]))
      .otherwise('Heartbeat', beatOk)
    const r = recorder()
    const m = membership(fake, r.reconciler, { metadataCheckIntervalMs: 20 })
    await m.start()
    await until(() => fake.requestsOf('Heartbeat').length >= 3, 'heartbeats at two partitions')
    assert.equal(fake.requestsOf('JoinGroup').length, 1, 'no rejoin while nothing changed')
    fake.topic('t', [1, 1, 1])
    await until(() => m.owned().length === 3, 'the third partition assigned')
    assert.equal(fake.requestsOf('JoinGroup').length, 2)
    await m.leave()
  })

  it('cooperative: revokes only what the new assignment leaves out, then rejoins at once', async () => {
    const fake = new FakeCluster().topic('t', [1, 1, 1, 1])
    fake
      .script('JoinGroup', joined(1, 'm-1', 'other'), joined(2, 'm-1', 'other'), joined(3, 'm-1', 'other'))
      .script('SyncGroup', synced([0, 1, 2, 3]))
      .otherwise('Heartbeat', beatOk)
    const r = recorder()
    const m = membership(fake, r.reconciler)
    const warnings: Array<string | undefined> = []
    m.on('heartbeat_error', (e) => warnings.push(e.errorName))
    await m.start()
    await until(() => m.owned().length === 4, 'first assignment')
    // A second member joined: the group rebalances, this member keeps consuming meanwhile.
    fake.script('Heartbeat', error('REBALANCE_IN_PROGRESS'))
    fake.script('SyncGroup', synced([0, 1]), synced([0, 1]))
    await until(() => fake.requestsOf('JoinGroup').length === 3, 'the follow-up join after revoking')
    assert.deepEqual(warnings, [], 'a rebalance is the protocol at work, not a heartbeat failure')
    await until(() => m.memberEpoch === 3, 'generation 3')
    assert.deepEqual(r.calls, [
      { op: 'assign', partitions: [0, 1, 2, 3] },
      { op: 'revoke', partitions: [2, 3] },
    ])
    assert.deepEqual(
      m.owned().map((p) => p.partition),
      [0, 1],
    )
    await m.leave()
  })

  it('fenced (ILLEGAL_GENERATION, then UNKNOWN_MEMBER_ID): partitions lost without commit, the member joins again', async () => {
    const fake = new FakeCluster().topic('t', [1, 1])
    fake
      .script('JoinGroup', joined(1, 'm-1', 'other'), joined(5, 'm-1', 'other'), joined(7, 'm-2', 'other'))
      .otherwise('SyncGroup', async () => synced([0, 1]))
      .script('Heartbeat', error('ILLEGAL_GENERATION'))
      .otherwise('Heartbeat', beatOk)
    const r = recorder()
    const m = membership(fake, r.reconciler)
    await m.start()
    await until(() => m.memberEpoch === 5 && m.owned().length === 2, 'rejoined at generation 5')
    assert.deepEqual(r.calls, [
      { op: 'assign', partitions: [0, 1] },
      { op: 'lost', partitions: [0, 1] },
      { op: 'assign', partitions: [0, 1] },
    ])
    fake.script('Heartbeat', error('UNKNOWN_MEMBER_ID'))
    await until(() => m.memberEpoch === 7, 'rejoined with a new member id')
    assert.equal(m.memberId, 'm-2')
    assert.deepEqual(r.calls.at(-2), { op: 'lost', partitions: [0, 1] })
    await m.leave()
  })

  it('a static member whose instance id another process took (FENCED_INSTANCE_ID) stops, naming the id; it does not leave', async () => {
    const fake = new FakeCluster().topic('t', [1])
    fake
      .script('JoinGroup', joined(1, 'm-1', 'other'))
      .script('SyncGroup', synced([0]))
      .script('Heartbeat', error('FENCED_INSTANCE_ID'))
      .otherwise('Heartbeat', beatOk)
    const r = recorder()
    const m = membership(fake, r.reconciler, { groupInstanceId: 'worker-1' })
    const fatal = new Promise<Error>((resolve) => m.on('fatal', resolve))
    await m.start()
    const stopped = await fatal
    assert.match(stopped.message, /FENCED_INSTANCE_ID.*worker-1/)
    await m.leave()
    assert.equal(
      fake.requestsOf('LeaveGroup').length,
      0,
      'a static member keeps its place until the session ends',
    )
  })

  it('eager (range): revokes everything before rejoining', async () => {
    const fake = new FakeCluster().topic('t', [1, 1])
    fake
      .script('JoinGroup', joined(1, 'm-1', 'other', [], 'range'), joined(2, 'm-1', 'other', [], 'range'))
      .script('SyncGroup', synced([0, 1]), synced([1]))
      .script('Heartbeat', beatOk, error('REBALANCE_IN_PROGRESS'))
      .otherwise('Heartbeat', beatOk)
    const r = recorder()
    const m = membership(fake, r.reconciler, { assignors: [rangeAssignor, cooperativeStickyAssignor] })
    assert.equal(m.rebalanceProtocol, 'eager')
    await m.start()
    await until(() => m.memberEpoch === 2 && r.calls.length === 3, 'second generation')
    assert.deepEqual(r.calls, [
      { op: 'assign', partitions: [0, 1] },
      { op: 'revoke', partitions: [0, 1] },
      { op: 'assign', partitions: [1] },
    ])
    await m.leave()
  })
})
