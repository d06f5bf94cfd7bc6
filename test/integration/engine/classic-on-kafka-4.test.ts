// Consumer groups forced to groupProtocol 'classic' on the suite's Kafka 4.x broker, where the
// classic and KIP-848 protocols coexist: a classic member joins (the coordinator holds a classic
// group), consumes, commits with its generation, and the next member resumes without a repeat; two
// classic members under load rebalance cooperatively, the member that stays revoking only the
// partitions that move, with nothing lost or repeated; a stopped group restarted on the other
// protocol (either way) resumes from its commits. And one group id with a KIP-848 member and
// a classic member: the coordinator makes it one consumer (KIP-848) group whichever joins first
// (a classic group with members is upgraded when a KIP-848 member joins; a classic member joins a
// consumer group as it is), assigns the partitions between both, and turns it back into a classic
// group when the last KIP-848 member leaves; nothing is lost or repeated through the changes.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { describeGroupState, type GroupState } from '../../../src/admin/group-members.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import { deliverySummary, TestMember } from '../../support/engine-member.ts'
import {
  bootstrapServers,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

let cluster: KafkaCluster

before(() => {
  cluster = new KafkaCluster(resolveConnection({ bootstrap: bootstrapServers(), clientId: 'classic-on-4' }))
})

after(async () => {
  await cluster.close()
})

const byPartition = (i: number, partitions: number) => ({
  key: `k${i}`,
  value: `v${i}`,
  partition: i % partitions,
  headers: {},
})

const partitionsOf = (m: TestMember) =>
  m.consumer
    .assignment()
    .map((p) => p.partition)
    .sort((a, b) => a - b)

/** Produces batches of 300 (50 ms apart) until stopped; `produced()` counts what was written. */
function steadyProducer(topic: string, partitions: number) {
  let producing = true
  let produced = 0
  const done = (async () => {
    while (producing) {
      const base = produced
      await produceRecords(topic, 300, { partitions, record: (i) => byPartition(base + i, partitions) })
      produced += 300
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  return {
    produced: () => produced,
    stop: async () => {
      producing = false
      await done
    },
  }
}

/** Waits until every record of `topic` was handled by `members`, then checks each was handled once. */
async function allHandledOnce(topic: string, partitions: number, members: TestMember[], produced: number) {
  const ends = await endOffsets(topic, partitions)
  const total = [...ends.values()].reduce((x, y) => x + y, 0)
  assert.equal(total, produced)
  const all = () => members.flatMap((m) => m.processed)
  await waitUntil(() => deliverySummary(all()).distinct === total, {
    timeoutMs: 60_000,
    message: `all ${total} handled`,
  })
  const { distinct, duplicates } = deliverySummary(all())
  assert.equal(distinct, total, 'every record handled')
  assert.equal(duplicates, 0, 'no record handled twice')
}

test("'classic' forced on 4.x: a classic group; the member commits with its generation and the next one resumes without repeats", async () => {
  const topic = await createTopic('classic4-resume', 3)
  const groupId = uniqueName('classic4-resume')
  await produceRecords(topic, 300, { partitions: 3, record: (i) => byPartition(i, 3) })
  const options = { groupId, topics: [topic], groupProtocol: 'classic' as const }
  const first = new TestMember(options)
  const chosen: string[] = []
  first.consumer.on('group_protocol', (e) => chosen.push(`${e.protocol}: ${e.reason}`))
  await first.start()
  assert.equal(first.consumer.groupProtocol, 'classic')
  assert.deepEqual(chosen, ["classic: groupProtocol is 'classic'"])
  await waitUntil(() => first.processed.length >= 300, { timeoutMs: 30_000, message: '300 read' })
  const described = await describeGroupState(cluster, groupId)
  assert.equal(described.type, 'classic', 'the coordinator holds a classic group')
  assert.equal(described.members.length, 1)
  await first.stop()

  await produceRecords(topic, 90, { partitions: 3, record: (i) => byPartition(300 + i, 3) })
  const second = new TestMember(options)
  await second.start()
  await waitUntil(() => second.processed.length >= 90, { timeoutMs: 30_000, message: '90 new read' })
  await new Promise((r) => setTimeout(r, 500))
  await second.stop()
  assert.equal(second.processed.length, 90, 'only the records after the commits')
  assert.ok(
    second.processed.every((r) => r.offset >= 100),
    'each partition resumed at 100',
  )
  assert.equal(deliverySummary([...first.processed, ...second.processed]).duplicates, 0)
})

test('a stopped group changes protocol both ways (classic → KIP-848 → classic) and resumes from its commits without repeats', async () => {
  const topic = await createTopic('classic4-switch', 3)
  const groupId = uniqueName('classic4-switch')
  const runs: TestMember[] = []
  let produced = 0
  for (const [protocol, records] of [
    ['classic', 300],
    ['consumer', 90],
    ['classic', 30],
  ] as const) {
    const base = produced
    await produceRecords(topic, records, { partitions: 3, record: (i) => byPartition(base + i, 3) })
    produced += records
    const member = new TestMember({ groupId, topics: [topic], groupProtocol: protocol })
    runs.push(member)
    await member.start()
    await waitUntil(() => member.processed.length >= records, {
      timeoutMs: 30_000,
      message: `${records} read on ${protocol}`,
    })
    await new Promise((r) => setTimeout(r, 500))
    await member.stop()
    assert.equal(member.processed.length, records, `${protocol}: only the records after the commits`)
    assert.ok(
      member.processed.every((r) => r.offset >= base / 3),
      `${protocol}: each partition resumed at ${base / 3}`,
    )
  }
  assert.equal(deliverySummary(runs.flatMap((m) => m.processed)).duplicates, 0)
})

test('two classic members on 4.x under load: the one that stays revokes only the partitions that move; nothing lost or repeated', async () => {
  const topic = await createTopic('classic4-coop', 6)
  const groupId = uniqueName('classic4-coop')
  const producer = steadyProducer(topic, 6)
  const options = { groupId, topics: [topic], groupProtocol: 'classic' as const, revokeTimeoutMs: 30_000 }
  const a = new TestMember(options)
  const revokedFromA: number[][] = []
  a.consumer.on('partitions_revoked', (e) => revokedFromA.push(e.partitions.map((p) => p.partition)))
  await a.start()
  await waitUntil(() => a.assignedCount() === 6, { timeoutMs: 30_000, message: 'a owns 6' })
  const b = new TestMember(options)
  await b.start()
  await waitUntil(() => a.assignedCount() === 3 && b.assignedCount() === 3, {
    timeoutMs: 60_000,
    message: '3/3',
  })
  const kept = partitionsOf(a)
  assert.equal(revokedFromA.length, 1, `one revocation: ${JSON.stringify(revokedFromA)}`)
  assert.deepEqual(
    revokedFromA[0]!.sort((x, y) => x - y),
    partitionsOf(b),
    'a revoked exactly what b got',
  )
  assert.ok(
    kept.every((p) => !revokedFromA[0]!.includes(p)),
    'a kept the rest throughout',
  )
  // b leaves gracefully: a gets its 3 back and revokes nothing.
  await b.stop()
  await waitUntil(() => a.assignedCount() === 6, { timeoutMs: 60_000, message: 'a owns 6 again' })
  assert.equal(revokedFromA.length, 1, 'a revoked nothing when b left')
  await producer.stop()
  await allHandledOnce(topic, 6, [a, b], producer.produced())
  await a.stop()
})

/** Who the coordinator says is in the group, by type, once it settled on `members` members. */
async function settledGroup(groupId: string, members: number): Promise<GroupState> {
  let state: GroupState | undefined
  await waitUntil(
    async () => {
      state = await describeGroupState(cluster, groupId)
      return state.members.length === members && state.state === 'Stable'
    },
    { timeoutMs: 60_000, message: `the group settles with ${members} members` },
  )
  return state!
}

test('a classic group with a member is upgraded to a consumer group when a KIP-848 member joins, and back when it leaves: nothing lost or repeated', async () => {
  const topic = await createTopic('classic4-upgrade', 4)
  const groupId = uniqueName('classic4-upgrade')
  const producer = steadyProducer(topic, 4)
  const classic = new TestMember({
    groupId,
    topics: [topic],
    groupProtocol: 'classic',
    revokeTimeoutMs: 30_000,
  })
  const events: string[] = []
  classic.consumer.on('partitions_assigned', (e) =>
    events.push(`assigned ${e.partitions.map((p) => p.partition)}`),
  )
  classic.consumer.on('partitions_revoked', (e) =>
    events.push(`${e.reason} ${e.partitions.map((p) => p.partition)}`),
  )
  await classic.start()
  await waitUntil(() => classic.assignedCount() === 4, { timeoutMs: 30_000, message: 'classic owns 4' })
  assert.equal((await settledGroup(groupId, 1)).type, 'classic')

  const kip848 = new TestMember({
    groupId,
    topics: [topic],
    groupProtocol: 'consumer',
    revokeTimeoutMs: 30_000,
  })
  await kip848.start()
  await waitUntil(() => classic.assignedCount() === 2 && kip848.assignedCount() === 2, {
    timeoutMs: 60_000,
    message: '2/2 between the classic and the KIP-848 member',
  })
  const mixed = await settledGroup(groupId, 2)
  assert.equal(mixed.type, 'consumer', 'the coordinator upgraded the group')
  const owned = new Set(partitionsOf(classic))
  const movedToKip848 = partitionsOf(kip848)
  assert.ok(
    movedToKip848.every((p) => !owned.has(p)),
    'no partition owned by both',
  )

  await kip848.stop()
  await waitUntil(() => classic.assignedCount() === 4, { timeoutMs: 60_000, message: 'classic owns 4 again' })
  assert.equal(
    (await settledGroup(groupId, 1)).type,
    'classic',
    'downgraded when the last KIP-848 member left',
  )
  await producer.stop()
  // Cooperative through both conversions: on the upgrade the classic member gave up only the
  // partitions the KIP-848 member got; on the downgrade it only gained.
  assert.deepEqual(events, ['assigned 0,1,2,3', `revoked ${movedToKip848}`, `assigned ${movedToKip848}`])
  await allHandledOnce(topic, 4, [classic, kip848], producer.produced())
  await classic.stop()
})

test('a classic member joins a KIP-848 group as it is: the coordinator assigns it its share; nothing lost or repeated', async () => {
  const topic = await createTopic('classic4-join', 4)
  const groupId = uniqueName('classic4-join')
  const producer = steadyProducer(topic, 4)
  const kip848 = new TestMember({
    groupId,
    topics: [topic],
    groupProtocol: 'consumer',
    revokeTimeoutMs: 30_000,
  })
  const revoked: string[] = []
  kip848.consumer.on('partitions_revoked', (e) =>
    revoked.push(`${e.reason} ${e.partitions.map((p) => p.partition)}`),
  )
  await kip848.start()
  await waitUntil(() => kip848.assignedCount() === 4, { timeoutMs: 30_000, message: 'KIP-848 member owns 4' })
  const classic = new TestMember({
    groupId,
    topics: [topic],
    groupProtocol: 'classic',
    revokeTimeoutMs: 30_000,
  })
  await classic.start()
  await waitUntil(() => classic.assignedCount() === 2 && kip848.assignedCount() === 2, {
    timeoutMs: 60_000,
    message: '2/2 between the KIP-848 and the classic member',
  })
  assert.equal((await settledGroup(groupId, 2)).type, 'consumer')
  assert.deepEqual(
    revoked,
    [`revoked ${partitionsOf(classic)}`],
    'the KIP-848 member gave up only what moved',
  )
  await classic.stop()
  await waitUntil(() => kip848.assignedCount() === 4, {
    timeoutMs: 60_000,
    message: 'KIP-848 member owns 4 again',
  })
  assert.equal(
    (await settledGroup(groupId, 1)).type,
    'consumer',
    'a KIP-848 member left: still a consumer group',
  )
  assert.equal(revoked.length, 1, 'nothing revoked when the classic member left')
  await producer.stop()
  await allHandledOnce(topic, 4, [classic, kip848], producer.produced())
  await kip848.stop()
})
