// Protocol features of the engine on a real broker: regex subscription (KIP-848 server-side
// RE2J), static membership, read_committed over real transactions, and the position reset
// after OFFSET_OUT_OF_RANGE / for a new group with autoOffsetReset 'latest'.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Producer } from '@platformatic/kafka'
import { GroupConsumer, type GroupConsumerOptions } from '../../../src/engine/group-consumer.ts'
import type { AssignedPartition, ConsumerRecord, TopicPartition } from '../../../src/engine/types.ts'
import { protocolErrorName } from '../../../src/kafka/protocol-errors.ts'
import { deliverySummary, drainFor, drainUntil, TestMember } from '../../support/engine-member.ts'
import {
  bootstrapServers,
  committedOffsets,
  createAdmin,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

function newConsumer(options: Omit<GroupConsumerOptions, 'bootstrap' | 'clientId'>): GroupConsumer {
  return new GroupConsumer({ bootstrap: bootstrapServers(), clientId: 'engine-protocol', ...options })
}

/** `promise`'s value, or `fallback` when it has not settled within `ms`. */
async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<F>((r) => (timer = setTimeout(() => r(fallback), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

const sortTps = (tps: readonly TopicPartition[]): string[] =>
  tps.map((p) => `${p.topic}#${p.partition}`).sort()
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

test('regex subscription: all partitions of the matching topics, none of the other, records consumed', async () => {
  const stem = uniqueName('engine-regex')
  const a = await createTopic(`${stem}-in-a`, 2)
  const b = await createTopic(`${stem}-in-b`, 3)
  // Shares the stem but not `<stem>-in-`: must stay out of the subscription.
  const other = await createTopic(`${stem}-out`, 2)
  await produceRecords(a, 40, { partitions: 2 })
  await produceRecords(b, 60, { partitions: 3 })
  await produceRecords(other, 20, { partitions: 2 })

  const consumer = newConsumer({ groupId: uniqueName('engine-regex'), topicPattern: `${stem}-in-.*` })
  const seen: ConsumerRecord[] = []
  try {
    await consumer.start()
    // The coordinator resolves the regex asynchronously: the assignment follows a few heartbeats later.
    await drainUntil(consumer, seen, () => seen.length >= 100, '100 records of the matching topics')
    await drainFor(consumer, seen, 1500)
    const expected = [
      ...[0, 1].map((partition) => ({ topic: a, partition })),
      ...[0, 1, 2].map((partition) => ({ topic: b, partition })),
    ]
    assert.deepEqual(sortTps(consumer.assignment()), sortTps(expected), 'exactly the matching partitions')
    assert.equal(seen.filter((r) => r.topic === other).length, 0, 'nothing of the non-matching topic')
    for (const { topic, partition } of expected) {
      const offsets = seen.filter((r) => r.topic === topic && r.partition === partition).map((r) => r.offset)
      assert.deepEqual(offsets, range(0, 20), `${topic}#${partition} complete, in order, once`)
    }
  } finally {
    await consumer.close()
  }
})

test('static membership: a restart within the session timeout gets the same partitions and continues from the commits', async () => {
  const topic = await createTopic('engine-static', 4)
  const groupId = uniqueName('engine-static')
  await produceRecords(topic, 400, { partitions: 4 })
  const options = { groupId, topics: [topic], commitIntervalMs: 100 }
  const a = new TestMember({ ...options, groupInstanceId: 'static-a' })
  const b = new TestMember({ ...options, groupInstanceId: 'static-b' })
  await a.start()
  await b.start()
  let a2: TestMember | undefined
  let dup: GroupConsumer | undefined
  try {
    await waitUntil(() => a.assignedCount() === 2 && b.assignedCount() === 2, { message: '2/2 assignment' })
    await waitUntil(() => deliverySummary([...a.processed, ...b.processed]).distinct === 400, {
      message: 'first 400 consumed',
    })
    const aPartitions = sortTps(a.consumer.assignment())
    const bPartitions = sortTps(b.consumer.assignment())
    const aProcessed = new Set(a.processed.map((r) => `${r.partition}:${r.offset}`))

    // Closing a static member leaves with epoch -2: the coordinator keeps its assignment for
    // the session timeout instead of moving its partitions to b.
    await a.stop()
    await waitUntil(
      async () => [...(await committedOffsets(groupId, topic, 4)).values()].every((c) => c.offset === 100),
      {
        message: 'all 4 partitions committed at 100',
      },
    )
    await produceRecords(topic, 400, {
      partitions: 4,
      record: (i) => ({ key: `k${i}`, value: `second-${i}`, partition: i % 4, headers: {} }),
    })
    await sleep(2000)
    assert.deepEqual(sortTps(b.consumer.assignment()), bPartitions, 'b did not take the partitions of a')

    a2 = new TestMember({ ...options, groupInstanceId: 'static-a' })
    const assignedToA2: AssignedPartition[] = []
    a2.consumer.on('partitions_assigned', (e) => assignedToA2.push(...e.partitions))
    await a2.start()
    await waitUntil(() => a2!.assignedCount() === 2, { message: 'the restarted member owns 2 partitions' })
    assert.deepEqual(sortTps(a2.consumer.assignment()), aPartitions, 'the same partitions as before')
    assert.deepEqual(sortTps(b.consumer.assignment()), bPartitions, 'b kept its partitions throughout')
    assert.equal(assignedToA2.length, 2)
    for (const p of assignedToA2) {
      assert.equal(p.committed?.offset, 100, `${p.topic}#${p.partition}: continues from the commit`)
      assert.equal(p.position, 100)
    }
    const first = a2
    await waitUntil(() => first.processed.length >= 200, { message: 'the restarted member consumes its 200' })
    await sleep(500)
    assert.equal(
      first.processed.filter((r) => aProcessed.has(`${r.partition}:${r.offset}`)).length,
      0,
      'nothing committed before the restart is delivered again',
    )
    for (const partition of aPartitions) {
      const p = Number(partition.split('#')[1])
      assert.deepEqual(
        first.processed.filter((r) => r.partition === p).map((r) => r.offset),
        range(100, 200),
        `partition ${p}: 100..199 once, in order`,
      )
    }

    // A second live member with the same instance id: the coordinator refuses its join
    // (UNRELEASED_INSTANCE_ID) as long as the id is held. The engine keeps retrying (start()
    // stays pending), reports warnings, owns nothing and receives nothing; the holder is undisturbed.
    dup = newConsumer({ groupId, topics: [topic], groupInstanceId: 'static-a' })
    const warnings: string[] = []
    const fatals: Error[] = []
    dup.on('warning', (w) => warnings.push(protocolErrorName(w.error) ?? w.error.message))
    dup.on('fatal', (e) => fatals.push(e))
    let dupStarted = false
    const dupStart = dup.start().then(() => {
      dupStarted = true
    })
    dupStart.catch(() => {})
    await waitUntil(() => warnings.includes('UNRELEASED_INSTANCE_ID'), {
      message: 'the duplicate is refused with UNRELEASED_INSTANCE_ID',
    })
    await produceRecords(topic, 400, {
      partitions: 4,
      record: (i) => ({ key: `k${i}`, value: `third-${i}`, partition: i % 4, headers: {} }),
    })
    await waitUntil(
      () =>
        first.processed.length >= 400 &&
        deliverySummary([...a.processed, ...b.processed, ...first.processed]).distinct === 1200,
      {
        message: 'the holder and b consume the third wave',
      },
    )
    const dupSeen: ConsumerRecord[] = []
    await drainFor(dup, dupSeen, 1000)
    assert.equal(dupStarted, false, 'the duplicate did not join')
    assert.deepEqual(fatals, [])
    assert.deepEqual(dup.assignment(), [])
    assert.equal(dupSeen.length, 0, 'the duplicate received nothing')
    assert.deepEqual(sortTps(first.consumer.assignment()), aPartitions, 'the holder keeps its partitions')

    // A refused duplicate that gives up: close() settles its pending start() (ENGINE_CLOSED).
    const quitter = newConsumer({ groupId, topics: [topic], groupInstanceId: 'static-a' })
    const quitterWarnings: string[] = []
    quitter.on('warning', (w) => quitterWarnings.push(protocolErrorName(w.error) ?? w.error.message))
    const quitterStart = quitter.start().then(
      () => 'joined',
      (e: Error & { code?: string }) => e.code,
    )
    await waitUntil(() => quitterWarnings.includes('UNRELEASED_INSTANCE_ID'), {
      message: 'the quitter is refused',
    })
    await quitter.close()
    assert.equal(await within(quitterStart, 10_000, 'still pending'), 'ENGINE_CLOSED')

    // Once the holder leaves (epoch -2), the waiting duplicate takes the instance id over, with
    // its partitions, from the committed offsets.
    const dupAssigned: AssignedPartition[] = []
    dup.on('partitions_assigned', (e) => dupAssigned.push(...e.partitions))
    await first.stop()
    await within(dupStart, 20_000, undefined)
    assert.equal(dupStarted, true, 'the duplicate joined once the id was released')
    await waitUntil(() => dupAssigned.length === 2, { message: 'the duplicate is assigned 2 partitions' })
    assert.deepEqual(sortTps(dup.assignment()), aPartitions, 'it took over exactly those partitions')
    for (const p of dupAssigned) assert.equal(p.committed?.offset, 300, `${p.topic}#${p.partition}`)
    assert.deepEqual(sortTps(b.consumer.assignment()), bPartitions)
  } finally {
    await Promise.allSettled([dup?.close(), a2?.stop(), b.stop()])
  }
})

test('read_committed skips an aborted transaction; read_uncommitted sees it; the position passes the markers', async () => {
  const topic = await createTopic('engine-txn', 1)
  const N = 30
  const M = 20
  const producer = new Producer({
    clientId: 'engine-txn-producer',
    bootstrapBrokers: bootstrapServers(),
    idempotent: true,
    transactionalId: uniqueName('engine-txn'),
  })
  const batch = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      topic,
      partition: 0,
      key: Buffer.from(`${prefix}${i}`),
      value: Buffer.from(`${prefix}-${i}`),
    }))
  try {
    const t1 = await producer.beginTransaction()
    await t1.send({ messages: batch('c1', N) })
    await t1.commit()
    const t2 = await producer.beginTransaction()
    await t2.send({ messages: batch('ab', M) })
    await t2.abort()
    const t3 = await producer.beginTransaction()
    await t3.send({ messages: batch('c2', N) })
    await t3.commit()
  } finally {
    await producer.close()
  }
  // Layout: c1 at 0..N-1, commit marker at N, aborted at N+1..N+M, abort marker, c2, commit marker.
  const logEnd = (await endOffsets(topic, 1)).get(0)
  assert.equal(logEnd, 2 * N + M + 3, 'three transactions and three markers')
  const values = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
  const tp = { topic, partition: 0 }

  for (const isolationLevel of ['read_committed', 'read_uncommitted'] as const) {
    const groupId = uniqueName(`engine-txn-${isolationLevel}`)
    const consumer = newConsumer({ groupId, topics: [topic], isolationLevel })
    const seen: ConsumerRecord[] = []
    try {
      await consumer.start()
      const expected = isolationLevel === 'read_committed' ? 2 * N : 2 * N + M
      await drainUntil(
        consumer,
        seen,
        () => seen.length >= expected && consumer.position(tp) === logEnd,
        `${isolationLevel}: ${expected} records taken and the position past the last marker`,
      )
      await drainFor(consumer, seen, 1000)
      if (isolationLevel === 'read_committed') {
        assert.deepEqual(
          seen.map((r) => r.value?.toString()),
          [...values('c1', N), ...values('c2', N)],
        )
        assert.deepEqual(
          seen.map((r) => r.offset),
          [...range(0, N), ...range(N + M + 2, 2 * N + M + 2)],
          'offsets jump over the markers and the aborted records',
        )
      } else {
        assert.deepEqual(
          seen.map((r) => r.value?.toString()),
          [...values('c1', N), ...values('ab', M), ...values('c2', N)],
        )
        assert.deepEqual(
          seen.map((r) => r.offset),
          [...range(0, N), ...range(N + 1, N + M + 1), ...range(N + M + 2, 2 * N + M + 2)],
          'offsets jump over the markers only',
        )
      }
      // Committing the position reached leaves the group at the log end, not before the last marker
      // (which would show as a lag of 1 forever).
      const position = consumer.position(tp)
      assert.equal(position, logEnd)
      await consumer.commit([{ topic, partition: 0, offset: position }])
      assert.equal((await committedOffsets(groupId, topic, 1)).get(0)?.offset, logEnd)
    } finally {
      await consumer.close()
    }
  }
})

test('OFFSET_OUT_OF_RANGE after deleteRecords: offset_reset 10 → 50 and offsets 50..99 consumed', async () => {
  const topic = await createTopic('engine-oor', 1)
  await produceRecords(topic, 100, { partitions: 1 })
  const groupId = uniqueName('engine-oor')
  const admin = createAdmin()
  try {
    await admin.alterConsumerGroupOffsets({
      groupId,
      topics: [{ name: topic, partitionOffsets: [{ partition: 0, offset: 10n }] }],
    })
    const deleted = await admin.deleteRecords({
      topics: [{ name: topic, partitions: [{ partition: 0, offset: 50n }] }],
    })
    assert.equal(deleted[0]?.partitions[0]?.lowWatermark, 50n)
  } finally {
    await admin.close()
  }
  assert.equal((await committedOffsets(groupId, topic, 1)).get(0)?.offset, 10)

  const consumer = newConsumer({ groupId, topics: [topic], autoOffsetReset: 'earliest' })
  const resets: Array<{ topic: string; partition: number; from: number; to: number; policy?: string }> = []
  const assigned: AssignedPartition[] = []
  consumer.on('position_reset', (e) => resets.push(e))
  consumer.on('partitions_assigned', (e) => assigned.push(...e.partitions))
  const seen: ConsumerRecord[] = []
  try {
    await consumer.start()
    await drainUntil(consumer, seen, () => seen.length >= 50, '50 records after the reset')
    await drainFor(consumer, seen, 1000)
    assert.deepEqual(
      assigned.map((p) => [p.position, p.committed?.offset]),
      [[10, 10]],
      'starts at the commit',
    )
    assert.deepEqual(resets, [
      { topic, partition: 0, from: 10, to: 50, reason: 'offset_reset', policy: 'earliest' },
    ])
    assert.deepEqual(
      seen.map((r) => r.offset),
      range(50, 100),
    )
    assert.deepEqual(
      seen.map((r) => r.value?.toString()),
      range(50, 100).map((i) => `v${i}`),
    )
  } finally {
    await consumer.close()
  }
})

test("autoOffsetReset 'latest': a new group consumes only what is produced after it joined", async () => {
  const topic = await createTopic('engine-latest', 2)
  await produceRecords(topic, 50, { partitions: 2 })
  const consumer = newConsumer({
    groupId: uniqueName('engine-latest'),
    topics: [topic],
    autoOffsetReset: 'latest',
  })
  const assigned: AssignedPartition[] = []
  consumer.on('partitions_assigned', (e) => assigned.push(...e.partitions))
  const seen: ConsumerRecord[] = []
  try {
    await consumer.start()
    await waitUntil(() => assigned.length === 2, { message: 'both partitions assigned' })
    assert.deepEqual(
      assigned.map((p) => [p.partition, p.position, p.committed]).sort(),
      [
        [0, 25, null],
        [1, 25, null],
      ],
      'positioned at the log end',
    )
    await drainFor(consumer, seen, 1000)
    assert.equal(seen.length, 0, 'nothing of the backlog')
    await produceRecords(topic, 20, {
      partitions: 2,
      record: (i) => ({ key: `k${i}`, value: `after-${i}`, partition: i % 2, headers: {} }),
    })
    await drainUntil(consumer, seen, () => seen.length >= 20, '20 new records')
    await drainFor(consumer, seen, 1000)
    for (const partition of [0, 1]) {
      const records = seen.filter((r) => r.partition === partition)
      assert.deepEqual(
        records.map((r) => r.offset),
        range(25, 35),
      )
      assert.ok(records.every((r) => r.value?.toString().startsWith('after-')))
    }
    assert.equal(seen.length, 20)
  } finally {
    await consumer.close()
  }
})
