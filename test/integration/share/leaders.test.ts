// Share sessions per leader broker, on a two-broker cluster of this file's own (the shared test
// broker stays single-node): partitions led by both brokers are fetched through one session
// each, and when a broker goes away mid-run the member follows the leaders, reports the locks it
// lost there, and every record is still accepted.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { configureShareGroup, describeShareGroup } from '../../../src/admin/share.ts'
import { addLocalBroker, stopAddedBroker } from '../../../src/devkafka/added-broker.ts'
import { startLocalKafka, stopLocalKafka } from '../../../src/devkafka/local-broker.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { createAdmin, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { createShareMember, kafkaOptions, ShareWorker } from '../../support/share.ts'

const PARTITIONS = 4
const PER_PARTITION = 2000
const dir = mkdtempSync(join(tmpdir(), 'multilane-share-brokers-'))
const env = { ...process.env, MULTILANE_BROKER_DIR: dir }

before(async () => {
  const { state } = await startLocalKafka({ env })
  process.env[BOOTSTRAP_ENV] = state.bootstrap
})

after(async () => {
  await stopLocalKafka({ env })
  rmSync(dir, { recursive: true, force: true })
})

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
 * Share-partition state lives in __share_group_state, which the dev broker creates with one
 * replica on first use: create it while broker 1 is alone, so stopping broker 2 later takes
 * partition leaderships away, not the state of the group.
 */
async function createShareStateTopicOnBroker1(): Promise<void> {
  const topic = uniqueName('share-state-warmup')
  const admin = createAdmin()
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })
  } finally {
    await admin.close()
  }
  const groupId = uniqueName('share-state-warmup')
  await configureShareGroup(kafkaOptions(), groupId, { autoOffsetReset: 'earliest' })
  const { consumer } = createShareMember({ groupId, topics: [topic] })
  await consumer.start()
  await produceRecords(topic, 1, { partitions: 1 })
  await waitUntil(
    async () => {
      await consumer.waitForRecords(100)
      return consumer.takeRecords(1).length > 0
    },
    { message: 'the warm-up record' },
  )
  await consumer.close()
}

test('one share session per leader; a leader going away mid-run is followed and nothing is lost', async (t) => {
  await createShareStateTopicOnBroker1()
  const broker = await addLocalBroker({ env, nodeId: 2 })
  const topic = uniqueName('share-leaders')
  const admin = createAdmin()
  try {
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 2 })
  } finally {
    await admin.close()
  }
  await waitUntil(async () => (await leaders(topic)).every((l) => l >= 0), { message: 'leaders elected' })
  const before = await leaders(topic)
  assert.deepEqual([...new Set(before)].sort(), [1, 2], `both brokers lead partitions (${before.join(', ')})`)
  const groupId = uniqueName('share-leaders')
  await configureShareGroup(kafkaOptions(), groupId, {
    autoOffsetReset: 'earliest',
    recordLockDurationMs: 5000,
  })
  const { consumer, log } = createShareMember({ groupId, topics: [topic], maxRecords: 100 })
  await consumer.start()
  // Records stay locked a while, so the leader change finds locks held on broker 2.
  const worker = new ShareWorker(consumer, () => sleep(100).then(() => 'accept' as const))
  const total = PARTITIONS * PER_PARTITION
  const half = (offset: number) => (i: number) => ({
    key: `k${i}`,
    value: `v${offset + i}`,
    partition: i % PARTITIONS,
    headers: {},
  })
  await produceRecords(topic, total / 2, { partitions: PARTITIONS, batchSize: 200, record: half(0) })
  const accepted = () =>
    new Set(
      worker.results
        .filter((r) => r.outcome === 'ok' && r.type === 'accept')
        .map((r) => `${r.partition}:${r.offset}`),
    )
  await waitUntil(() => accepted().size >= total / 4, { timeoutMs: 60_000, message: 'a quarter accepted' })
  assert.deepEqual(
    consumer
      .stats()
      .sessions.map((s) => s.nodeId)
      .sort(),
    [1, 2],
    'one share session per leader broker',
  )

  const processing = consumer.stats().partitions.reduce((n, p) => n + p.processing, 0)
  await stopAddedBroker(broker.nodeId, { env })
  t.diagnostic(`broker 2 stopped with ${accepted().size} of ${total} accepted, ${processing} being processed`)
  await produceRecords(topic, total / 2, { partitions: PARTITIONS, batchSize: 200, record: half(total / 2) })
  await waitUntil(async () => (await leaders(topic)).every((l) => l === 1), {
    timeoutMs: 60_000,
    message: 'broker 1 leads all',
  })
  await waitUntil(() => accepted().size === total, { timeoutMs: 120_000, message: `all ${total} accepted` })
  await waitUntil(
    async () => {
      const d = await describeShareGroup(kafkaOptions(), groupId)
      return d.partitions.length === PARTITIONS && d.partitions.every((p) => p.lag === 0)
    },
    { timeoutMs: 60_000, message: 'lag 0 everywhere' },
  )
  await worker.stop()
  const lost = log.lockLost.reduce((n, l) => n + l.offsets.length, 0)
  t.diagnostic(
    `locks lost at the leader change: ${lost}; warnings: ${log.warnings.map((w) => w.message).join('; ')}`,
  )
  assert.equal(accepted().size, total)
  assert.ok(
    log.warnings.some((w) => /NOT_LEADER_OR_FOLLOWER|connection|ECONNREFUSED|closed/i.test(w.message)),
    'the member noticed the leader change',
  )
})
