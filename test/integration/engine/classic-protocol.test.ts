// Consumer groups on a Kafka 3.9.1 broker (classic group protocol only): 'auto' chooses the
// classic protocol; forcing 'consumer' fails the start naming the broker's feature level and the
// option; a member consumes, commits with its generation, and the next member resumes from the
// commits without repeating a record; members joining and leaving under load rebalance
// incrementally (cooperative-sticky) with nothing lost and nothing handled twice; a static member
// that restarts within its session gets its partitions back without the others moving; a group
// mixing multilane and librdkafka (Python confluent-kafka) members, cooperative-sticky, hands
// partitions back and forth with either as the leader, nothing lost or repeated. And the
// at-least-once suites written for KIP-848 pass unchanged on 3.9.1 ('auto' picks classic there):
// SIGKILL mid-run and restart, graceful shutdown with 0 repeats, churn with joins, graceful leaves
// and SIGKILLs, rebalances under load, offset maps restored by the next owner, parallel segments
// (count 3) across `multilane run --processes 3` with a worker SIGKILLed. A classic group is
// described (type, state, members' partitions) as the segments commands need.
// One private 3.9.1 broker for the file.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { describeGroupState } from '../../../src/admin/group-members.ts'
import { EngineError } from '../../../src/engine/errors.ts'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import { deliverySummary, TestMember } from '../../support/engine-member.ts'
import { createTopic, endOffsets, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { type PrivateBroker, startPrivateBroker } from '../../support/private-broker.ts'
import { pythonWithConfluentKafka } from '../../support/python.ts'

let broker: PrivateBroker | undefined
const previousBootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS

before(async () => {
  broker = await startPrivateBroker({ version: '3.9.1' })
  // The support helpers (topics, producing, TestMember) use this cluster.
  process.env.KAFKA_BOOTSTRAP_SERVERS = broker.state.bootstrap
})

after(async () => {
  if (previousBootstrap === undefined) delete process.env.KAFKA_BOOTSTRAP_SERVERS
  else process.env.KAFKA_BOOTSTRAP_SERVERS = previousBootstrap
  await broker?.stop()
})

const byPartition = (i: number, partitions: number) => ({
  key: `k${i}`,
  value: `v${i}`,
  partition: i % partitions,
  headers: {},
})

test("forcing groupProtocol 'consumer' on 3.9.1 fails the start, naming the feature level and the option", async () => {
  const topic = await createTopic('classic-forced', 1)
  const consumer = new GroupConsumer({
    bootstrap: broker!.state.bootstrap,
    clientId: 'classic-test',
    groupId: uniqueName('classic-forced'),
    topics: [topic],
    groupProtocol: 'consumer',
  })
  try {
    await assert.rejects(consumer.start(), (error: unknown) => {
      assert.ok(error instanceof EngineError)
      assert.equal(error.code, 'GROUP_PROTOCOL_UNAVAILABLE')
      assert.match(error.message, /groupProtocol 'consumer'/)
      assert.match(error.message, /group\.version 0/)
      assert.match(error.message, /Kafka ≥ 4\.0/)
      return true
    })
  } finally {
    await consumer.close()
  }
})

test("'auto' chooses classic; a member commits with its generation and the next one resumes without repeats", async () => {
  const topic = await createTopic('classic-resume', 3)
  const groupId = uniqueName('classic-resume')
  await produceRecords(topic, 300, { partitions: 3, record: (i) => byPartition(i, 3) })
  const first = new TestMember({ groupId, topics: [topic] })
  const chosen: string[] = []
  first.consumer.on('group_protocol', (e) => chosen.push(`${e.protocol} (${e.requested}): ${e.reason}`))
  await first.start()
  assert.equal(first.consumer.groupProtocol, 'classic')
  assert.match(chosen[0] ?? '', /^classic \(auto\): .*group\.version 0/)
  assert.ok(first.consumer.memberEpoch >= 1, 'a generation id')
  await waitUntil(() => first.processed.length >= 300, { timeoutMs: 30_000, message: '300 read' })
  await first.stop()

  await produceRecords(topic, 90, { partitions: 3, record: (i) => byPartition(300 + i, 3) })
  const second = new TestMember({ groupId, topics: [topic] })
  await second.start()
  await waitUntil(() => second.processed.length >= 90, { timeoutMs: 30_000, message: '90 new read' })
  await new Promise((r) => setTimeout(r, 500))
  await second.stop()
  const offsets = second.processed.map((r) => r.offset)
  assert.equal(second.processed.length, 90, 'only the records after the commits')
  assert.ok(
    offsets.every((o) => o >= 100),
    'each partition resumed at 100',
  )
  assert.equal(deliverySummary([...first.processed, ...second.processed]).duplicates, 0)
})

test('three classic members join one by one, two leave, under load: all delivered, 2/2/2, zero duplicates', async () => {
  const topic = await createTopic('classic-rebalance', 6)
  const groupId = uniqueName('classic-rebalance')
  let producing = true
  let produced = 0
  const producer = (async () => {
    while (producing) {
      const base = produced
      await produceRecords(topic, 300, { partitions: 6, record: (i) => byPartition(base + i, 6) })
      produced += 300
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  // Handled by two members at once: a record of a partition another member also holds now.
  const holders = new Map<number, string>()
  let overlaps = 0
  const options = (name: string) => ({
    groupId,
    topics: [topic],
    groupProtocol: 'classic' as const,
    revokeTimeoutMs: 30_000,
    onRecord: (r: { partition: number }) => {
      const holder = holders.get(r.partition)
      if (
        holder !== undefined &&
        holder !== name &&
        members.some((m) => m.name === holder && m.owns(r.partition))
      )
        overlaps++
      holders.set(r.partition, name)
    },
  })
  const members: Array<{ name: string; member: TestMember; owns(p: number): boolean }> = []
  const add = async (name: string) => {
    const member = new TestMember(options(name))
    members.push({
      name,
      member,
      owns: (p) => member.consumer.assignment().some((tp) => tp.partition === p),
    })
    await member.start()
    return member
  }
  const a = await add('a')
  await waitUntil(() => a.assignedCount() === 6, { timeoutMs: 30_000, message: 'first member owns 6' })
  const b = await add('b')
  const c = await add('c')
  await waitUntil(() => [a, b, c].every((m) => m.assignedCount() === 2), {
    timeoutMs: 60_000,
    message: '2/2/2',
  })
  await a.stop()
  await b.stop()
  await waitUntil(() => c.assignedCount() === 6, { timeoutMs: 60_000, message: 'survivor owns 6' })
  producing = false
  await producer

  const ends = await endOffsets(topic, 6)
  const total = [...ends.values()].reduce((x, y) => x + y, 0)
  assert.equal(total, produced)
  const all = () => [a, b, c].flatMap((m) => m.processed)
  await waitUntil(() => deliverySummary(all()).distinct === total, {
    timeoutMs: 60_000,
    message: `all ${total} delivered`,
  })
  await c.stop()
  const { distinct, duplicates } = deliverySummary(all())
  assert.equal(distinct, total, 'every record delivered')
  assert.equal(duplicates, 0, 'no record delivered twice')
  assert.equal(overlaps, 0, 'no partition handled by two members at once')
})

test("eager assignors (assignors: ['range']): members revoke everything before each rejoin, nothing lost or repeated", async () => {
  const topic = await createTopic('classic-eager', 4)
  const groupId = uniqueName('classic-eager')
  await produceRecords(topic, 2000, { partitions: 4, record: (i) => byPartition(i, 4) })
  const options = {
    groupId,
    topics: [topic],
    groupProtocol: 'classic' as const,
    assignors: ['range' as const],
  }
  const a = new TestMember(options)
  const revokedA: number[] = []
  a.consumer.on('partitions_revoked', (e) => revokedA.push(e.partitions.length))
  await a.start()
  await waitUntil(() => a.assignedCount() === 4, { timeoutMs: 30_000, message: 'a owns 4' })
  const b = new TestMember(options)
  await b.start()
  await waitUntil(() => a.assignedCount() === 2 && b.assignedCount() === 2, {
    timeoutMs: 60_000,
    message: '2/2',
  })
  assert.equal(revokedA[0], 4, 'eager: a gave up all 4 before rejoining')
  await produceRecords(topic, 400, { partitions: 4, record: (i) => byPartition(2000 + i, 4) })
  const all = () => [...a.processed, ...b.processed]
  await waitUntil(() => deliverySummary(all()).distinct === 2400, { timeoutMs: 60_000, message: 'all 2400' })
  await a.stop()
  await b.stop()
  assert.equal(deliverySummary(all()).duplicates, 0)
})

test('a static member restarted within its session gets its partitions back; the other member keeps its own', async () => {
  const topic = await createTopic('classic-static', 4)
  const groupId = uniqueName('classic-static')
  const options = (instance: string) => ({
    groupId,
    topics: [topic],
    groupProtocol: 'classic' as const,
    groupInstanceId: instance,
    sessionTimeoutMs: 30_000,
  })
  const a = new TestMember(options('static-a'))
  const b = new TestMember(options('static-b'))
  await a.start()
  await b.start()
  await waitUntil(() => a.assignedCount() === 2 && b.assignedCount() === 2, {
    timeoutMs: 60_000,
    message: '2/2',
  })
  const partitionsOf = (m: TestMember) =>
    m.consumer
      .assignment()
      .map((p) => p.partition)
      .sort()
  const before = partitionsOf(b)
  const aBefore = partitionsOf(a)
  await b.stop()
  // No LeaveGroup: the coordinator keeps b's partitions for its instance id.
  await new Promise((r) => setTimeout(r, 3000))
  assert.deepEqual(partitionsOf(a), aBefore, 'no rebalance while b is away')
  const b2 = new TestMember(options('static-b'))
  await b2.start()
  await waitUntil(() => b2.assignedCount() === 2, { timeoutMs: 30_000, message: 'b back with 2' })
  assert.deepEqual(partitionsOf(b2), before)
  assert.deepEqual(partitionsOf(a), aBefore)
  await a.stop()
  await b2.stop()
})

test('a classic group on 3.9.1 is described (type, state, members and their partitions), as the segments commands need', async () => {
  const topic = await createTopic('classic-describe', 2)
  const groupId = uniqueName('classic-describe')
  const member = new TestMember({ groupId, topics: [topic], groupProtocol: 'classic' })
  const cluster = new KafkaCluster(
    resolveConnection({ bootstrap: broker!.state.bootstrap, clientId: 'classic-describe' }),
  )
  try {
    await member.start()
    await waitUntil(() => member.assignedCount() === 2, { timeoutMs: 30_000, message: 'the member owns 2' })
    const described = await describeGroupState(cluster, groupId)
    assert.equal(described.type, 'classic')
    assert.equal(described.state, 'Stable')
    assert.deepEqual(
      described.members.flatMap((m) => m.assignment.map((p) => `${p.topic}#${p.partition}`)).sort(),
      [`${topic}#0`, `${topic}#1`],
    )
    await member.stop()
    assert.equal((await describeGroupState(cluster, groupId)).state, 'Empty')
  } finally {
    await member.stop()
    await cluster.close()
  }
})

/** A Python confluent-kafka member (test/fixtures/classic-member.py) and what it reported. */
function pythonMember(python: string, groupId: string, topic: string) {
  const child: ChildProcess = spawn(
    python,
    [join(import.meta.dirname, '../../fixtures/classic-member.py'), broker!.state.bootstrap, groupId, topic],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const owned = new Set<number>()
  const consumed: string[] = []
  const log: string[] = []
  let buffer = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    const lines = buffer.split('\n')
    buffer = lines.pop() ?? ''
    for (const line of lines) {
      const [kind, rest = ''] = [line.slice(0, 1), line.slice(2)]
      if (kind !== 'M') log.push(line)
      const partitions = rest ? rest.split(',').map(Number) : []
      if (kind === 'A') for (const p of partitions) owned.add(p)
      else if (kind === 'R' || kind === 'L') for (const p of partitions) owned.delete(p)
      else if (kind === 'M') consumed.push(rest)
    }
  })
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, owned, consumed, log, exited, stderr: () => stderr }
}

test('a mixed group with a Python confluent-kafka member (cooperative-sticky): either leads, nothing lost or repeated', async (t) => {
  const python = pythonWithConfluentKafka()
  const topic = await createTopic('classic-mixed', 6)
  const groupId = uniqueName('classic-mixed')
  let produced = 0
  const produce = async (n: number) => {
    const base = produced
    await produceRecords(topic, n, { partitions: 6, record: (i) => byPartition(base + i, 6) })
    produced += n
  }
  await produce(1200)
  const options = { groupId, topics: [topic], groupProtocol: 'classic' as const }
  // multilane first: it leads and assigns to the librdkafka member.
  const a = new TestMember(options)
  await a.start()
  await waitUntil(() => a.assignedCount() === 6, { timeoutMs: 30_000, message: 'multilane owns 6' })
  const py = pythonMember(python, groupId, topic)
  try {
    await waitUntil(() => py.owned.size === 3 && a.assignedCount() === 3, {
      timeoutMs: 60_000,
      message: 'multilane and Python own 3 each',
    })
    await produce(600)
    // multilane leaves: Python owns all and leads; a new multilane member gets its share from it.
    await a.stop()
    await waitUntil(() => py.owned.size === 6, { timeoutMs: 60_000, message: 'Python owns 6' })
    const b = new TestMember(options)
    await b.start()
    await waitUntil(() => py.owned.size === 3 && b.assignedCount() === 3, {
      timeoutMs: 60_000,
      message: 'Python (leader) gave multilane 3',
    })
    const mine = new Set(b.consumer.assignment().map((p) => p.partition))
    assert.ok(
      [...py.owned].every((p) => !mine.has(p)),
      'no partition owned by both',
    )
    await produce(600)
    py.child.kill('SIGTERM')
    assert.equal(await py.exited, 0, `the Python member closed cleanly: ${py.stderr()}`)
    await waitUntil(() => b.assignedCount() === 6, { timeoutMs: 60_000, message: 'multilane owns 6 again' })
    await produce(300)
    const seen = () =>
      new Set([...a.processed, ...b.processed].map((r) => `${r.partition}:${r.offset}`).concat(py.consumed))
    await waitUntil(() => seen().size === produced, {
      timeoutMs: 60_000,
      message: `all ${produced} consumed`,
    })
    await b.stop()
    const all = [...a.processed, ...b.processed].map((r) => `${r.partition}:${r.offset}`).concat(py.consumed)
    t.diagnostic(
      `multilane ${a.processed.length + b.processed.length}, Python ${py.consumed.length}; Python events: ${py.log.join(' | ')}`,
    )
    assert.ok(py.consumed.length > 0, 'the Python member consumed')
    assert.equal(new Set(all).size, produced, 'every record consumed')
    assert.equal(all.length, produced, 'no record consumed twice')
  } finally {
    if (py.child.exitCode === null) py.child.kill('SIGKILL')
  }
})

/** The at-least-once suites, run as they are (a child test run) against the 3.9.1 broker. */
const AT_LEAST_ONCE_SUITES = [
  'test/integration/processing/delivery.test.ts',
  'test/integration/processing/chaos.test.ts',
  'test/integration/engine/rebalance.test.ts',
  'test/integration/processing/restored-maps.test.ts',
  'test/integration/segments/run-processes.test.ts',
]

// Five suites in one child run, one after another: minutes of work, past the default
// 5-minute test timeout at a load average of 20 (seen), so this test has its own.
test('the at-least-once suites pass unchanged on 3.9.1 (classic protocol)', {
  timeout: 20 * 60_000,
}, async (t) => {
  // NODE_TEST_CONTEXT would make the child report to this run instead of running its own.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env
  const child = spawn(
    process.execPath,
    ['--test', '--test-global-setup=test/global-setup.ts', '--test-timeout=300000', ...AT_LEAST_ONCE_SUITES],
    {
      env: { ...env, KAFKA_BOOTSTRAP_SERVERS: broker!.state.bootstrap },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString()
  })
  child.stderr.on('data', (c: Buffer) => {
    output += c.toString()
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  const results = output.split('\n').filter((l) => /^[✔✖] |^ℹ (pass|fail) /.test(l))
  for (const line of results) t.diagnostic(line)
  assert.equal(code, 0, `the suites failed on 3.9.1:\n${output.slice(-6000)}`)
  assert.ok(
    results.some((l) => l.startsWith('✔ crash (SIGKILL) and restart')),
    'the SIGKILL suite ran',
  )
  assert.ok(
    results.some((l) => l.startsWith('✔ run --processes 3: one segment group per worker')),
    'the segments --processes 3 suite ran',
  )
})
