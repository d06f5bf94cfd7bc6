// The leader's step is one call: JoinGroup's members (ids, instance ids, subscription bytes) and the
// chosen protocol name in, SyncGroup's assignments out — one encoded ConsumerProtocolAssignment per
// member in JoinGroup order — with a typed error naming the member whose bytes do not decode or the
// strategy nobody here implements. A member's JoinGroup protocols carry each assignor's userData.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeCooperativeStickyUserData } from '../../../../src/engine/classic/assignors/cooperative-sticky.ts'
import {
  decodeAssignment,
  decodeSubscription,
  encodeSubscription,
} from '../../../../src/engine/classic/consumer-protocol.ts'
import { ClassicProtocolError } from '../../../../src/engine/classic/errors.ts'
import {
  CLASSIC_ASSIGNORS,
  joinGroupProtocols,
  leaderAssignment,
  type SyncGroupAssignment,
} from '../../../../src/engine/classic/leader.ts'

const metadata = (topics: string[], owned: Record<string, number[]> = {}, generationId = -1, version = 3) =>
  encodeSubscription({
    version,
    topics,
    userData: null,
    ownedPartitions: Object.entries(owned).map(([topic, partitions]) => ({ topic, partitions })),
    generationId,
    rackId: null,
  })

function decoded(assignments: SyncGroupAssignment[]): Record<string, string[]> {
  return Object.fromEntries(
    assignments.map(({ memberId, assignment }) => [
      memberId,
      decodeAssignment(assignment).assignedPartitions.flatMap(({ topic, partitions }) =>
        partitions.map((p) => `${topic}-${p}`),
      ),
    ]),
  )
}

test('multilane implements cooperative-sticky, range and roundrobin, cooperative first', () => {
  assert.deepEqual(
    CLASSIC_ASSIGNORS.map((a) => a.name),
    ['cooperative-sticky', 'range', 'roundrobin'],
  )
})

test('range: every member gets its encoded assignment, in JoinGroup order, empty ones included', () => {
  const members = [
    { memberId: 'c3', groupInstanceId: null, metadata: metadata(['t']) },
    { memberId: 'c1', groupInstanceId: null, metadata: metadata(['t']) },
    { memberId: 'c2', groupInstanceId: null, metadata: metadata(['other']) },
  ]
  const result = leaderAssignment(members, 'range', new Map([['t', 3]]))
  assert.deepEqual(
    result.map((r) => r.memberId),
    ['c3', 'c1', 'c2'],
  )
  assert.deepEqual(decoded(result), { c1: ['t-0', 't-1'], c3: ['t-2'], c2: [] })
  // Java's bytes: version 3, the partitions, null user_data.
  assert.deepEqual(result[2]!.assignment, Buffer.from('0003 00000000 ffffffff'.replace(/ /g, ''), 'hex'))
})

test("JoinGroup's group.instance.id orders static members, as in Java's leader", () => {
  const members = [
    { memberId: 'a', groupInstanceId: 'instance2', metadata: metadata(['t']) },
    { memberId: 'b', groupInstanceId: 'instance1', metadata: metadata(['t']) },
  ]
  assert.deepEqual(decoded(leaderAssignment(members, 'roundrobin', new Map([['t', 3]]))), {
    a: ['t-1'],
    b: ['t-0', 't-2'],
  })
})

test('cooperative-sticky across client kinds: v3 with generation_id, v1 with the generation in userData, v0', () => {
  const javaV1 = encodeSubscription({
    version: 1,
    topics: ['t'],
    userData: Buffer.from('00000004', 'hex'),
    ownedPartitions: [{ topic: 't', partitions: [1] }],
    generationId: -1,
    rackId: null,
  })
  const members = [
    { memberId: 'multilane', groupInstanceId: null, metadata: metadata(['t'], { t: [0] }, 4) },
    { memberId: 'java', groupInstanceId: null, metadata: javaV1 },
    { memberId: 'kafkajs', groupInstanceId: null, metadata: metadata(['t'], {}, -1, 0) },
  ]
  assert.deepEqual(decoded(leaderAssignment(members, 'cooperative-sticky', new Map([['t', 3]]))), {
    multilane: ['t-0'],
    java: ['t-1'],
    kafkajs: ['t-2'],
  })
})

test('a member whose metadata does not decode fails the step with CONSUMER_PROTOCOL_MALFORMED naming it', () => {
  const members = [
    { memberId: 'good', groupInstanceId: null, metadata: metadata(['t']) },
    { memberId: 'bad-member', groupInstanceId: null, metadata: Buffer.from([0, 3, 0, 0]) },
  ]
  assert.throws(
    () => leaderAssignment(members, 'range', new Map([['t', 1]])),
    (error: unknown) =>
      error instanceof ClassicProtocolError &&
      error.code === 'CONSUMER_PROTOCOL_MALFORMED' &&
      /member bad-member: malformed ConsumerProtocolSubscription: topics/.test(error.message),
  )
})

test('a protocol name without an assignor fails with UNKNOWN_ASSIGNOR listing the ones there are', () => {
  assert.throws(
    () => leaderAssignment([], 'sticky', new Map()),
    (error: unknown) =>
      error instanceof ClassicProtocolError &&
      error.code === 'UNKNOWN_ASSIGNOR' &&
      error.message.includes('"sticky"') &&
      error.message.includes('cooperative-sticky, range, roundrobin'),
  )
})

test("joinGroupProtocols: one entry per assignor in preference order, each with that assignor's userData", () => {
  const protocols = joinGroupProtocols(CLASSIC_ASSIGNORS, {
    topics: ['b', 'a'],
    generationId: 7,
    ownedPartitions: [{ topic: 'a', partitions: [1, 0] }],
    rackId: 'rack-1',
  })
  assert.deepEqual(
    protocols.map((p) => p.name),
    ['cooperative-sticky', 'range', 'roundrobin'],
  )
  const cooperative = decodeSubscription(protocols[0]!.metadata)
  assert.deepEqual(cooperative, {
    version: 3,
    topics: ['a', 'b'],
    userData: Buffer.from('00000007', 'hex'),
    ownedPartitions: [{ topic: 'a', partitions: [0, 1] }],
    generationId: 7,
    rackId: 'rack-1',
  })
  assert.equal(decodeCooperativeStickyUserData(cooperative.userData), 7)
  assert.equal(decodeSubscription(protocols[1]!.metadata).userData, null)
})
