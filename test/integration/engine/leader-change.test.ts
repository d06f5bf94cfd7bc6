// Partition leadership moving between brokers, on a cluster of this file's own (the shared
// test broker stays single-node): a broker with partition leaderships goes away mid-run — a
// controlled shutdown, or a SIGKILL the controller only notices at the broker session timeout —
// the controller moves its leaderships to the other replica, and the engine follows the leaders
// (NOT_LEADER_OR_FOLLOWER, refused connections → metadata refresh) with nothing lost.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  type AddedBroker,
  addedBrokerRunning,
  addLocalBroker,
  stopAddedBroker,
} from '../../../src/devkafka/added-broker.ts'
import { startLocalKafka, stopLocalKafka } from '../../../src/devkafka/local-broker.ts'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { deliverySummary, drainUntil } from '../../support/engine-member.ts'
import { committedOffsets, createAdmin, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

const PARTITIONS = 4
const PER_PARTITION = 5000
const dir = mkdtempSync(join(tmpdir(), 'multilane-brokers-'))
const env = { ...process.env, MULTILANE_BROKER_DIR: dir }

before(async () => {
  const { state } = await startLocalKafka({ env })
  // This file's helpers (topics, producers, admin) talk to the two-broker cluster.
  process.env[BOOTSTRAP_ENV] = state.bootstrap
})

after(async () => {
  await stopLocalKafka({ env })
  rmSync(dir, { recursive: true, force: true })
})

/** Leader node per partition, as the cluster reports it now. */
async function leaders(topic: string): Promise<number[]> {
  const admin = createAdmin()
  try {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    return metadata.topics.get(topic)!.partitions.map((p) => p.leader)
  } finally {
    await admin.close()
  }
}

/**
 * Adds broker `victim`, consumes a topic replicated on brokers 1 and `victim` part-way, takes
 * `victim` away with `kill`, and checks that every record arrives once, in order, and commits.
 */
async function consumeAcrossLeaderChange(
  t: { diagnostic(message: string): void },
  victim: number,
  kill: (broker: AddedBroker) => Promise<void>,
): Promise<void> {
  const broker = await addLocalBroker({ env, nodeId: victim })
  await assert.rejects(
    addLocalBroker({ env, nodeId: victim }),
    /already running/,
    'a running node id is refused',
  )
  const topic = uniqueName('leader-change')
  const admin = createAdmin()
  try {
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 2 })
  } finally {
    await admin.close()
  }
  await waitUntil(async () => (await leaders(topic)).every((l) => l >= 0), { message: 'leaders elected' })
  const before = await leaders(topic)
  const onVictim = before.flatMap((leader, partition) => (leader === victim ? [partition] : []))
  assert.ok(onVictim.length > 0, `broker ${victim} leads some partitions (leaders: ${before.join(', ')})`)
  await produceRecords(topic, PARTITIONS * PER_PARTITION, { partitions: PARTITIONS })

  const group = uniqueName('leader-change')
  const consumer = new GroupConsumer({
    bootstrap: process.env[BOOTSTRAP_ENV]!.split(','),
    clientId: 'leader-change',
    groupId: group,
    topics: [topic],
    // Small fetches and buffers: most records are still on the brokers when the victim goes.
    fetch: { maxPartitionBytes: 16 * 1024 },
    buffer: { maxRecordsPerPartition: 500 },
  })
  let warnings = 0
  consumer.on('warning', () => warnings++)
  const seen: ConsumerRecord[] = []
  try {
    await consumer.start()
    await drainUntil(consumer, seen, () => seen.length >= 4000, 'the first 4,000 records', 60_000)
    const seenBefore = new Map<number, number>()
    for (const r of seen) seenBefore.set(r.partition, (seenBefore.get(r.partition) ?? 0) + 1)

    const killedAt = performance.now()
    await kill(broker)
    await drainUntil(consumer, seen, () => seen.length >= PARTITIONS * PER_PARTITION, 'all records', 90_000)
    const recoveredMs = Math.round(performance.now() - killedAt)
    assert.deepEqual(
      await leaders(topic),
      before.map(() => 1),
      'broker 1 leads every partition now',
    )
    await consumer.commit(
      [...Array(PARTITIONS).keys()].map((partition) => ({ topic, partition, offset: PER_PARTITION })),
    )
    t.diagnostic(
      `leaders before: ${before.join(', ')}; records per partition before: ` +
        `${[...seenBefore.entries()].map(([p, n]) => `${p}=${n}`).join(', ')}; ` +
        `all consumed ${recoveredMs} ms after the kill; engine warnings: ${warnings}`,
    )
    for (const p of onVictim) {
      assert.ok(
        (seenBefore.get(p) ?? 0) < PER_PARTITION,
        `partition ${p} still had records on broker ${victim}`,
      )
    }
  } finally {
    await consumer.close()
  }

  const summary = deliverySummary(seen)
  assert.equal(summary.duplicates, 0)
  assert.equal(summary.distinct, PARTITIONS * PER_PARTITION)
  for (const [partition, offsets] of summary.byPartition) {
    assert.deepEqual(
      offsets,
      [...Array(PER_PARTITION).keys()],
      `partition ${partition} complete and in order`,
    )
  }
  const committed = await committedOffsets(group, topic, PARTITIONS)
  for (let p = 0; p < PARTITIONS; p++) assert.equal(committed.get(p)?.offset, PER_PARTITION)
}

test('controlled shutdown of a leading broker: consumption follows the moved leaders, nothing lost or repeated', (t) =>
  consumeAcrossLeaderChange(t, 2, () => stopAddedBroker(2, { env })))

test('a leading broker SIGKILLed: after the broker session timeout the leaders move, and consumption follows', (t) =>
  consumeAcrossLeaderChange(t, 3, async (broker) => {
    process.kill(broker.pid, 'SIGKILL')
    await waitUntil(() => !addedBrokerRunning(broker), { message: 'broker 3 is gone' })
  }))
