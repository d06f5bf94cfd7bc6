// Log truncation, on a cluster of this file's own: after an unclean leader election the new
// leader's log diverges below the position a consumer reached. Fetches carry the epoch of the
// last records read; the leader answers with where its log diverged, and the consumer reads
// from there. Going on at the old position would silently skip the records the new leader
// appended below it.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { Producer } from '@platformatic/kafka'
import { addLocalBroker } from '../../../src/devkafka/added-broker.ts'
import { jvmArguments, spawnBroker } from '../../../src/devkafka/broker-process.ts'
import { findJava } from '../../../src/devkafka/java-runtime.ts'
import { resolveKafkaJars } from '../../../src/devkafka/kafka-jars.ts'
import { startLocalKafka, stopLocalKafka } from '../../../src/devkafka/local-broker.ts'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import type { ConsumerRecord, PositionReset } from '../../../src/engine/types.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import { createAdmin, uniqueName, waitUntil } from '../../support/kafka.ts'

const dir = mkdtempSync(join(tmpdir(), 'multilane-truncation-'))
const env = { ...process.env, MULTILANE_BROKER_DIR: dir }
/** JVMs this file restarted itself (the launcher's records name the killed ones). */
const restarted: number[] = []
let version = ''

before(async () => {
  const { state } = await startLocalKafka({ env })
  version = state.version
  process.env[BOOTSTRAP_ENV] = state.bootstrap
})

after(async () => {
  for (const pid of restarted) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  await stopLocalKafka({ env })
  rmSync(dir, { recursive: true, force: true })
})

async function leaderOf(topic: string): Promise<number> {
  const cluster = new KafkaCluster(
    resolveConnection({ bootstrap: process.env[BOOTSTRAP_ENV]!, clientId: 'leader' }),
  )
  try {
    return (await cluster.refreshMetadata([topic])).get(topic)?.partitions[0]?.nodeId ?? -1
  } finally {
    await cluster.close()
  }
}

async function produce(topic: string, values: string[], acks: number): Promise<void> {
  const producer = new Producer({
    clientId: 'truncation',
    bootstrapBrokers: [process.env[BOOTSTRAP_ENV]!],
    idempotent: acks === -1,
  })
  try {
    await producer.send({
      acks,
      messages: values.map((v) => ({ topic, partition: 0, value: Buffer.from(v) })),
    })
  } finally {
    await producer.close()
  }
}

test("after an unclean leader election the consumer reads the new leader's records below its old position", async () => {
  const two = await addLocalBroker({ env, nodeId: 2 })
  const three = await addLocalBroker({ env, nodeId: 3 })
  const topic = uniqueName('truncation')
  const admin = createAdmin()
  try {
    await admin.createTopics({
      topics: [topic],
      assignments: [{ partition: 0, brokers: [2, 3] }],
      configs: [
        { name: 'unclean.leader.election.enable', value: 'true' },
        { name: 'min.insync.replicas', value: '1' },
      ],
    })
  } finally {
    await admin.close()
  }
  await waitUntil(async () => (await leaderOf(topic)) === 2, { message: 'broker 2 leads' })
  await produce(
    topic,
    Array.from({ length: 100 }, (_, i) => `old-${i}`),
    -1,
  )

  const seen: ConsumerRecord[] = []
  const resets: PositionReset[] = []
  const consumer = new GroupConsumer({
    bootstrap: process.env[BOOTSTRAP_ENV]!,
    clientId: 'truncation',
    groupId: uniqueName('truncation'),
    topics: [topic],
  })
  consumer.on('position_reset', (r) => resets.push(r))
  let running = true
  const loop = (async () => {
    await consumer.start()
    while (running) {
      for (const b of consumer.takeRecords(1000)) seen.push(...b.records)
      await consumer.waitForRecords(100)
    }
  })()
  try {
    await waitUntil(() => seen.length === 100, { message: 'the first 100 records' })
    // The follower dies: the leader goes on alone and takes 50 more records the follower never sees.
    process.kill(three.pid, 'SIGKILL')
    await produce(
      topic,
      Array.from({ length: 50 }, (_, i) => `lost-${i}`),
      1,
    )
    await waitUntil(() => seen.length === 150, { message: '50 more, read from broker 2 only' })
    // The leader dies too; the old follower comes back and, unclean, becomes the leader with
    // its shorter log, then takes new records at offsets 100 and up.
    process.kill(two.pid, 'SIGKILL')
    const java = findJava(env)
    const jars = resolveKafkaJars(version, env)
    const node = spawnBroker(
      java.executable,
      jvmArguments(jars.classpath, join(dirname(three.propertiesFile), 'log4j2.properties')),
      three.propertiesFile,
      three.logFile,
    )
    restarted.push(node.pid)
    await waitUntil(async () => (await leaderOf(topic)) === 3, {
      timeoutMs: 120_000,
      message: 'broker 3 elected (unclean)',
    })
    await produce(
      topic,
      Array.from({ length: 80 }, (_, i) => `new-${i}`),
      1,
    )
    await waitUntil(() => seen.some((r) => r.value?.toString() === 'new-79'), {
      timeoutMs: 60_000,
      message: "the new leader's records read",
    })
  } finally {
    running = false
    consumer.interruptWait()
    await loop.catch(() => {})
    await consumer.close()
  }
  const fresh = seen.filter((r) => r.value?.toString().startsWith('new-')).map((r) => r.value!.toString())
  assert.deepEqual(
    fresh,
    Array.from({ length: 80 }, (_, i) => `new-${i}`),
    'every record of the new leader, none skipped',
  )
  assert.deepEqual(
    resets.map((r) => [r.reason, r.from, r.to]),
    [['truncation', 150, 100]],
  )
})
