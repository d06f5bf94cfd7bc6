// A local cluster for chaos tests, on a three-broker cluster of this file's own: its internal
// topics are replicated on all three brokers, and nodes 1-3 form the KRaft controller quorum; any
// node SIGKILLed while a group commits — node 1 too — does not stop the commits (the group
// coordinator moves to another replica, leaders are still elected); `kafka broker start` brings it
// back; `kafka broker stop` keeps a node's data, id and ports for that. And the clear errors: no
// cluster, an unknown node, a node already running, a cluster asked bigger than the running one.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Admin, Connection, metadataV12 } from '@platformatic/kafka'
import { stopLocalBrokerNode } from '../../../src/devkafka/broker-nodes.ts'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { drainUntil } from '../../support/engine-member.ts'
import { committedOffsets, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import {
  type CliResult,
  multilane,
  privateBrokerEnv,
  processesUsing,
  removeDir,
  spawnMultilane,
} from '../../support/launcher.ts'
import { readRecords } from '../../support/read-topic.ts'

const { dir, env } = privateBrokerEnv('multilane-cluster')
const PARTITIONS = 3
const PER_PARTITION = 100

interface StartedCluster {
  pid: number
  bootstrap: string
  brokers: number
  addedBrokers: Array<{ nodeId: number; pid: number; bootstrap: string }>
}
let cluster: StartedCluster
let bootstrap: string[]

/** `multilane …` without blocking this process (the consumer keeps heartbeating meanwhile). */
function run(args: string[]): Promise<CliResult> {
  return spawnMultilane(args, env).done
}

before(async () => {
  const started = await run(['kafka', 'start', '--brokers', '3', '--json'])
  assert.equal(started.code, 0, started.stderr)
  cluster = JSON.parse(started.stdout) as StartedCluster
  bootstrap = [cluster.bootstrap, ...cluster.addedBrokers.map((b) => b.bootstrap)]
  // This file's helpers (producers, admin, readers) talk to the three-broker cluster.
  process.env[BOOTSTRAP_ENV] = bootstrap.join(',')
})

after(async () => {
  const stopped = await run(['kafka', 'stop'])
  removeDir(dir)
  assert.equal(stopped.code, 0, stopped.stderr)
  assert.deepEqual(processesUsing(dir), [], 'kafka stop ends every node, stopped ones included')
})

function admin(): Admin {
  return new Admin({ clientId: 'cluster-test', bootstrapBrokers: bootstrap })
}

async function partitionsOf(
  topic: string,
): Promise<Array<{ leader: number; replicas: number[]; isr: number[] }>> {
  const client = admin()
  try {
    const metadata = await client.metadata({ topics: [topic], forceUpdate: true })
    return metadata.topics.get(topic)!.partitions
  } finally {
    await client.close()
  }
}

/**
 * Partitions of `__consumer_offsets` by index, asked with a plain Metadata request (the Admin
 * client leaves internal topics out), from the first broker that answers.
 */
async function offsetsTopic(): Promise<Array<{ leader: number; replicas: number[]; isr: number[] }>> {
  for (const address of bootstrap) {
    const [host, port] = address.split(':') as [string, string]
    const connection = new Connection('cluster-test', { connectTimeout: 2000, requestTimeout: 5000 })
    connection.on('error', () => {})
    try {
      await connection.connect(host, Number(port))
      const response = await metadataV12.api.async(connection, ['__consumer_offsets'], false, false)
      const partitions = response.topics[0]!.partitions
      return [...partitions]
        .sort((a, b) => a.partitionIndex - b.partitionIndex)
        .map((p) => ({ leader: p.leaderId, replicas: [...p.replicaNodes], isr: [...p.isrNodes] }))
    } catch {
      // a stopped node: ask the next one
    } finally {
      await connection.close().catch(() => {})
    }
  }
  throw new Error(`no broker of ${bootstrap.join(',')} answered a Metadata request`)
}

/** The `__consumer_offsets` partition of a group: Java's String.hashCode, made non-negative, mod 10. */
function offsetsPartitionOf(group: string): number {
  let hash = 0
  for (let i = 0; i < group.length; i++) hash = (Math.imul(31, hash) + group.charCodeAt(i)) | 0
  return (hash & 0x7fffffff) % 10
}

async function createTopic(topic: string, options: { replicas?: number; onlyOn?: number }): Promise<void> {
  const client = admin()
  try {
    await client.createTopics(
      options.onlyOn === undefined
        ? { topics: [topic], partitions: PARTITIONS, replicas: options.replicas ?? 3 }
        : { topics: [topic], assignments: [{ partition: 0, brokers: [options.onlyOn] }] },
    )
  } finally {
    await client.close()
  }
  await waitUntil(async () => (await partitionsOf(topic).catch(() => [])).some((p) => p.leader >= 0), {
    message: `${topic} has leaders`,
    timeoutMs: 60_000,
  })
}

/** Commits `offset` on every partition, retrying while the coordinator moves; resolves once one commit went through. */
async function commitEventually(consumer: GroupConsumer, topic: string, offset: number): Promise<void> {
  let last: unknown
  await waitUntil(
    async () => {
      try {
        await consumer.commit(
          [...Array(PARTITIONS).keys()].map((partition) => ({ topic, partition, offset })),
        )
        return true
      } catch (error) {
        last = error
        return false
      }
    },
    {
      timeoutMs: 120_000,
      intervalMs: 250,
      message: `a commit of offset ${offset} (last error: ${String(last)})`,
    },
  )
}

test('no cluster: `kafka broker start|stop` say so and how to start one; a bad node id is a usage error', async () => {
  const empty = privateBrokerEnv('multilane-no-cluster')
  try {
    for (const args of [
      ['kafka', 'broker', 'start', '2'],
      ['kafka', 'broker', 'stop', '1', '--kill'],
    ]) {
      const result = multilane(args, empty.env)
      assert.equal(result.code, 1, args.join(' '))
      assert.match(
        result.stderr,
        /\[NOT_RUNNING\] No local cluster runs in .* start one with `multilane kafka start --brokers 3`/,
      )
    }
    const list = multilane(['kafka', 'broker', 'list'], empty.env)
    assert.equal(list.code, 1)
    assert.match(list.stdout, /no local broker is running/)
    const bad = multilane(['kafka', 'broker', 'start', 'two'], empty.env)
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /node.*must be a node id, an integer ≥ 1/)
  } finally {
    removeDir(empty.dir)
  }
})

test('three brokers: internal topics replicated three times; a bigger cluster is refused, the same size reused', async () => {
  assert.equal(cluster.brokers, 3)
  assert.deepEqual(
    cluster.addedBrokers.map((b) => b.nodeId),
    [2, 3],
  )
  const offsets = await offsetsTopic()
  assert.equal(offsets.length, 10)
  for (const p of offsets) {
    assert.deepEqual(
      [...p.replicas].sort(),
      [1, 2, 3],
      'every offsets partition has a replica on each broker',
    )
  }
  const bigger = await run(['kafka', 'start', '--brokers', '4'])
  assert.equal(bigger.code, 1)
  assert.match(
    bigger.stderr,
    /\[INVALID_BROKER_COUNT\].*started with 3 brokers.*replication factor 3.*multilane kafka stop/,
  )
  const same = await run(['kafka', 'start', '--brokers', '3', '--json'])
  assert.equal(same.code, 0, same.stderr)
  assert.equal((JSON.parse(same.stdout) as { reused: boolean; pid: number }).pid, cluster.pid)
  const list = await run(['kafka', 'broker', 'list', '--json'])
  assert.deepEqual(
    (JSON.parse(list.stdout) as Array<{ nodeId: number; running: boolean }>).map((n) => [
      n.nodeId,
      n.running,
    ]),
    [
      [1, true],
      [2, true],
      [3, true],
    ],
  )
})

/**
 * A group whose coordinator is node `victim` (1), or any node but 1 (`victim` undefined), commits
 * while that node is SIGKILLed: the commits go on once the coordinator moved. `whileDown` runs
 * with the node down; then `kafka broker start` brings it back into the ISR, and commits go on.
 */
async function killCoordinatorWhileCommitting(
  victimIs: (leader: number) => boolean,
  whileDown: (victim: number) => Promise<void>,
): Promise<void> {
  const topic = uniqueName('cluster-commits')
  await createTopic(topic, { replicas: 3 })
  await produceRecords(topic, PARTITIONS * PER_PARTITION, { partitions: PARTITIONS })
  const offsets = await offsetsTopic()
  let group = uniqueName('cluster-commits')
  while (!victimIs(offsets[offsetsPartitionOf(group)]!.leader)) group = uniqueName('cluster-commits')
  const victim = offsets[offsetsPartitionOf(group)]!.leader
  const consumer = new GroupConsumer({
    bootstrap,
    clientId: 'cluster-commits',
    groupId: group,
    topics: [topic],
  })
  const seen: ConsumerRecord[] = []
  try {
    await consumer.start()
    await drainUntil(consumer, seen, () => seen.length >= PARTITIONS * PER_PARTITION, 'every record', 120_000)
    await commitEventually(consumer, topic, 10)
    const described = await offsetsTopic()
    assert.deepEqual([...described[offsetsPartitionOf(group)]!.isr].sort(), [1, 2, 3])

    await stopLocalBrokerNode(victim, { env, kill: true })
    for (let offset = 11; offset <= 20; offset++) await commitEventually(consumer, topic, offset)
    const committed = await committedOffsets(group, topic, PARTITIONS)
    for (let p = 0; p < PARTITIONS; p++) assert.equal(committed.get(p)?.offset, 20)
    assert.notEqual(
      (await offsetsTopic())[offsetsPartitionOf(group)]!.leader,
      victim,
      'the coordinator moved off the killed node',
    )
    await whileDown(victim)

    const restarted = await run(['kafka', 'broker', 'start', String(victim)])
    assert.equal(restarted.code, 0, restarted.stderr)
    assert.match(restarted.stdout, new RegExp(`started node ${victim} .*the cluster lists it`))
    await waitUntil(async () => (await offsetsTopic())[offsetsPartitionOf(group)]!.isr.includes(victim), {
      timeoutMs: 120_000,
      message: `node ${victim} back in the ISR of the group's offsets partition`,
    })
    await commitEventually(consumer, topic, 30)
  } finally {
    await consumer.close()
  }
  const committed = await committedOffsets(group, topic, PARTITIONS)
  for (let p = 0; p < PARTITIONS; p++) assert.equal(committed.get(p)?.offset, 30)
}

test('the group coordinator (node 2 or 3) SIGKILLed while the group commits: commits go on, and `kafka broker start` brings the node back', () =>
  killCoordinatorWhileCommitting(
    (leader) => leader !== 1,
    async (victim) => {
      const status = await run(['kafka', 'status'])
      assert.equal(status.code, 0, 'node 1 runs: the cluster is running')
      assert.match(
        status.stdout,
        new RegExp(`broker ${victim}: 127\\.0\\.0\\.1:\\d+ \\(pid \\d+, controller, stopped\\)`),
      )
    },
  ))

test('node 1 SIGKILLed while the group it coordinates commits: the controller quorum goes on without it; `kafka start` refuses to wipe the cluster meanwhile', () =>
  killCoordinatorWhileCommitting(
    (leader) => leader === 1,
    async () => {
      const status = await run(['kafka', 'status'])
      assert.equal(status.code, 1)
      assert.match(status.stdout, /node 1 stopped/)
      assert.match(status.stdout, /broker 1: .*controller, stopped/)
      const start = await run(['kafka', 'start'])
      assert.equal(start.code, 1)
      assert.match(
        start.stderr,
        /\[NODE_STOPPED\] Node 1 of the local cluster .* is stopped while node 2, 3 still run.*kafka broker start 1/,
      )
      // Leader elections go on without node 1: a new topic gets leaders, and records round-trip on it.
      const topic = uniqueName('cluster-without-1')
      await createTopic(topic, { replicas: 2 })
      const sent = await produceRecords(topic, 10, { partitions: 1 })
      assert.equal((await readRecords(topic, 10, 60_000)).length, sent.length)
    },
  ))

test('`kafka broker stop` keeps the node data: a topic only on it comes back with its records; clear errors on the way', async () => {
  const topic = uniqueName('cluster-solo')
  await createTopic(topic, { onlyOn: 3 })
  const sent = await produceRecords(topic, 20, { partitions: 1 })

  const stopped = await run(['kafka', 'broker', 'stop', '3'])
  assert.equal(stopped.code, 0, stopped.stderr)
  assert.match(stopped.stdout, /stopped node 3 .*its data is kept/)
  const again = await run(['kafka', 'broker', 'stop', '3'])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /\[NODE_STOPPED\] node 3 .*not running.*kafka broker start 3/)
  const unknown = await run(['kafka', 'broker', 'stop', '7'])
  assert.equal(unknown.code, 1)
  assert.match(
    unknown.stderr,
    /\[INVALID_NODE_ID\] node 7 is not a node of the local cluster .*its nodes are 1, 2, 3/,
  )
  const unknownStart = await run(['kafka', 'broker', 'start', '7'])
  assert.match(unknownStart.stderr, /\[INVALID_NODE_ID\] node 7 .*its nodes are 1, 2, 3/)

  const started = await run(['kafka', 'broker', 'start', '3'])
  assert.equal(started.code, 0, started.stderr)
  const running = await run(['kafka', 'broker', 'start', '3'])
  assert.equal(running.code, 1)
  assert.match(
    running.stderr,
    /\[NODE_ALREADY_RUNNING\] node 3 of the local cluster is already running \(pid \d+/,
  )
  const list = await run(['kafka', 'broker', 'list', '--json'])
  const nodes = JSON.parse(list.stdout) as Array<{ nodeId: number; port: number; running: boolean }>
  assert.equal(
    nodes.find((n) => n.nodeId === 3)?.port,
    Number(cluster.addedBrokers[1]!.bootstrap.split(':')[1]),
  )

  await waitUntil(async () => (await partitionsOf(topic))[0]!.leader === 3, {
    timeoutMs: 120_000,
    message: `node 3 leads ${topic} again`,
  })
  const read = await readRecords(topic, 20, 60_000)
  assert.deepEqual(
    read.map((r) => r.value),
    sent.map((r) => r.value),
    'every record is back, in order',
  )
})
