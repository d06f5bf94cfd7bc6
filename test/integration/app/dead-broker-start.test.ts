// An app starting while a broker it cannot reach is still named by the metadata (SIGKILLed: the
// controller lists it, and its leaderships, until the broker session timeout): the start must
// not fail on that broker; the partitions it led are consumed once their leadership moves, and
// nothing is lost; under `multilane run --processes`, a leader and a worker killed together:
// the worker's replacement starts (it does not fail and use up its restarts). On a cluster of this file's own (node 1 plus one
// added broker per test, the victim: the internal topics live on node 1).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { addedBrokerRunning, addLocalBroker } from '../../../src/devkafka/added-broker.ts'
import { startLocalKafka, stopLocalKafka } from '../../../src/devkafka/local-broker.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import {
  committedOffsets,
  createAdmin,
  produceRecords,
  uniqueName,
  waitUntil,
  within,
} from '../../support/kafka.ts'
import { spawnMultilane } from '../../support/launcher.ts'
import { cliEnv, repo } from '../../support/segments.ts'

const fixture = join(repo, 'test/fixtures/open-handle-app.ts')
const PARTITIONS = 4
const PER_PARTITION = 100
const dir = mkdtempSync(join(tmpdir(), 'multilane-dead-broker-'))
const env = { ...process.env, MULTILANE_BROKER_DIR: dir }

before(async () => {
  const { state } = await startLocalKafka({ env })
  process.env[BOOTSTRAP_ENV] = state.bootstrap
})

after(async () => {
  await stopLocalKafka({ env })
  rmSync(dir, { recursive: true, force: true })
})

/** Leader node per partition, and the brokers, as multilane's own metadata client reads them. */
async function metadata(topic: string): Promise<{ leaders: number[]; brokers: number[] }> {
  const cluster = new KafkaCluster(
    resolveConnection({ bootstrap: process.env[BOOTSTRAP_ENV]!, clientId: 'leaders' }),
  )
  try {
    const topics = await cluster.refreshMetadata([topic])
    return {
      leaders: topics.get(topic)?.partitions.map((p) => p.nodeId) ?? [],
      brokers: cluster.knownBrokers(),
    }
  } finally {
    await cluster.close()
  }
}

test('an app starts while the metadata still names a SIGKILLed leader, and handles every record once leadership moves', async () => {
  const victim = await addLocalBroker({ env, nodeId: 2 })
  const topic = uniqueName('dead-broker-start')
  const admin = createAdmin()
  try {
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 2 })
  } finally {
    await admin.close()
  }
  await waitUntil(async () => (await metadata(topic)).leaders.every((l) => l >= 0), {
    message: 'leaders elected',
  })
  await waitUntil(async () => (await metadata(topic)).leaders.includes(2), {
    timeoutMs: 60_000,
    message: 'broker 2 leads a partition (preferred leaders)',
  })
  await produceRecords(topic, PARTITIONS * PER_PARTITION, { partitions: PARTITIONS })

  process.kill(victim.pid, 'SIGKILL')
  await waitUntil(() => !addedBrokerRunning(victim), { message: 'broker 2 is gone' })

  const handled = new Set<string>()
  let duplicates = 0
  const app = createApp({
    kafka: { bootstrap: process.env[BOOTSTRAP_ENV]!, clientId: 'dead-broker' },
    logger: false,
  })
  app.consumerGroup(uniqueName('dead-broker-start'), (g) =>
    g.topic(topic, {
      handler: (record) => {
        const at = `${record.partition}:${record.offset}`
        if (handled.has(at)) duplicates++
        handled.add(at)
      },
    }),
  )
  const group = app.definition().consumerGroups[0]!.name
  try {
    await app.start()
    // What the start saw: the dead broker still led partitions (else this test proved nothing).
    const seen = await metadata(topic)
    assert.ok(
      seen.brokers.includes(2) || seen.leaders.includes(2),
      `broker 2 was still in the metadata when the app had started (leaders ${seen.leaders.join(', ')})`,
    )
    await waitUntil(() => handled.size === PARTITIONS * PER_PARTITION, {
      timeoutMs: 120_000,
      message: `every record handled (${handled.size} of ${PARTITIONS * PER_PARTITION})`,
    })
  } finally {
    await app.stop()
  }
  assert.equal(duplicates, 0)
  const committed = await committedOffsets(group, topic, PARTITIONS)
  for (let p = 0; p < PARTITIONS; p++) assert.equal(committed.get(p)?.offset, PER_PARTITION, `partition ${p}`)
})

test('run --processes 2: a leader and a worker SIGKILLed together: the worker restarts without failing, nothing is lost', async () => {
  const victim = await addLocalBroker({ env, nodeId: 3 })
  const topic = uniqueName('dead-broker-swarm')
  const admin = createAdmin()
  try {
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 2 })
  } finally {
    await admin.close()
  }
  await waitUntil(async () => (await metadata(topic)).leaders.includes(3), {
    timeoutMs: 60_000,
    message: 'broker 3 leads a partition',
  })
  await produceRecords(topic, PARTITIONS * PER_PARTITION, { partitions: PARTITIONS })
  const run = spawnMultilane(
    ['run', fixture, '--processes', '2'],
    cliEnv(undefined, {
      KAFKA_BOOTSTRAP_SERVERS: process.env[BOOTSTRAP_ENV]!,
      OPEN_HANDLE_TOPIC: topic,
      OPEN_HANDLE_GROUP: uniqueName('dead-broker-swarm'),
      OPEN_HANDLE_LOG: '1',
    }),
  )
  const handled = () => new Set([...run.output().matchAll(/^H \d+ (\d+:\d+)$/gm)].map((m) => m[1]))
  const pidsOf = (w: number) =>
    [...run.output().matchAll(new RegExp(`worker ${w} started \\(pid (\\d+)\\)`, 'g'))].map((m) =>
      Number(m[1]),
    )
  try {
    await waitUntil(() => handled().size > 0 && pidsOf(0).length === 1 && pidsOf(1).length === 1, {
      timeoutMs: 90_000,
      message: `the workers handle records:\n${run.output()}`,
    })
    // The leader goes, and a worker with it (the chaos run's sequence): the replacement (restarted
    // 0.5 s later) starts while the leadership moves; whatever it meets, it must not fail.
    process.kill(victim.pid, 'SIGKILL')
    process.kill(pidsOf(0)[0]!, 'SIGKILL')
    await waitUntil(() => pidsOf(0).length === 2, { message: `worker 0 restarted:\n${run.output()}` })
    await waitUntil(() => handled().size === PARTITIONS * PER_PARTITION, {
      timeoutMs: 120_000,
      message: `every record handled (${handled().size})`,
    })
  } finally {
    run.child.kill('SIGTERM')
  }
  const result = await within(run.done, 60_000)
  if (result === 'timed out') run.child.kill('SIGKILL')
  assert.notEqual(result, 'timed out', run.output())
  if (result === 'timed out') return
  assert.equal(result.code, 0, result.stderr)
  // The only unexpected exit is the SIGKILL: no start failed (not even as "cluster unreachable").
  assert.doesNotMatch(result.stderr, /exited with code/)
  assert.equal(result.stderr.match(/exited by SIGKILL/g)?.length, 1, result.stderr)
})
