// Failures: a member killed without leaving, and a broker stopped and restarted mid-run.
// Counting proves nothing is lost.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startLocalKafka, stopLocalKafka } from '../../../src/devkafka/local-broker.ts'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { deliverySummary, TestMember } from '../../support/engine-member.ts'
import { spawnFixture } from '../../support/fixture-process.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

function spawnMember(
  topic: string,
  groupId: string,
): { child: ChildProcess; processed: Set<string>; ready: Promise<void> } {
  const processed = new Set<string>()
  let markReady!: () => void
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  const child = spawnFixture(
    'engine-member-process.ts',
    [bootstrapServers().join(','), topic, groupId],
    (line) => {
      if (line === 'ready') markReady()
      else processed.add(line)
    },
  )
  return { child, processed, ready }
}

test('a killed member (no leave): its partitions move to the survivor and nothing is lost', async () => {
  const topic = await createTopic('engine-crash', 6)
  const groupId = uniqueName('engine-crash')
  await produceRecords(topic, 6000, { partitions: 6 })
  const victim = spawnMember(topic, groupId)
  let survivor: TestMember | undefined
  try {
    await killedMemberScenario(topic, groupId, victim, (m) => {
      survivor = m
    })
  } finally {
    victim.child.kill('SIGKILL')
    await survivor?.stop().catch(() => {})
  }
})

async function killedMemberScenario(
  topic: string,
  groupId: string,
  victim: ReturnType<typeof spawnMember>,
  started: (survivor: TestMember) => void,
): Promise<void> {
  await victim.ready
  await waitUntil(() => victim.processed.size === 6000, { message: 'victim consumed the first 6000' })

  const survivor = new TestMember({ groupId, topics: [topic] })
  started(survivor)
  await survivor.start()
  await waitUntil(() => survivor.assignedCount() === 3, {
    timeoutMs: 30_000,
    message: 'survivor gets 3 of 6',
  })
  await produceRecords(topic, 6000, {
    partitions: 6,
    record: (i) => ({ key: `k${i}`, value: `second-${i}`, partition: i % 6, headers: {} }),
  })
  await waitUntil(() => victim.processed.size > 6000, { message: 'victim processes some of the second wave' })
  victim.child.kill('SIGKILL')
  const killedAt = Date.now()

  // The broker notices only when the session times out (10 s on the dev broker).
  await waitUntil(() => survivor.assignedCount() === 6, { timeoutMs: 40_000, message: 'survivor owns all 6' })
  const movedAfterMs = Date.now() - killedAt
  const delivered = () =>
    new Set([...victim.processed, ...survivor.processed.map((r) => `${r.partition}:${r.offset}`)])
  await waitUntil(() => delivered().size === 12_000, { timeoutMs: 30_000, message: 'all 12,000 delivered' })
  await survivor.stop()
  assert.equal(delivered().size, 12_000, 'every record processed at least once')
  assert.ok(movedAfterMs >= 3000, `partitions moved only after the session timeout (${movedAfterMs} ms)`)
}

test('broker stopped and restarted mid-run: the engine reconnects and continues, nothing lost', async () => {
  // A broker of its own: stopping the suite's broker would break concurrent tests.
  const dir = mkdtempSync(join(tmpdir(), 'multilane-restart-'))
  const env = { ...process.env, MULTILANE_BROKER_DIR: dir }
  const savedBootstrap = process.env[BOOTSTRAP_ENV]
  let member: TestMember | undefined
  try {
    const { state } = await startLocalKafka({ env })
    process.env[BOOTSTRAP_ENV] = state.bootstrap
    const topic = await createTopic('engine-restart', 3)
    await produceRecords(topic, 3000, { partitions: 3 })
    const m = new TestMember({ groupId: uniqueName('engine-restart'), topics: [topic] })
    member = m
    await m.start()
    await waitUntil(() => m.processed.length >= 3000, { message: 'first 3000' })
    await m.commitNow()

    await stopLocalKafka({ env, keep: true })
    await new Promise((r) => setTimeout(r, 2000))
    await startLocalKafka({ env, restart: true })
    await produceRecords(topic, 3000, {
      partitions: 3,
      record: (i) => ({ key: `k${i}`, value: `after-${i}`, partition: i % 3, headers: {} }),
    })
    await waitUntil(() => deliverySummary(m.processed).distinct === 6000, {
      timeoutMs: 60_000,
      message: 'all 6000 delivered after the restart',
    })
    await m.stop()
    member = undefined
    const { distinct, byPartition } = deliverySummary(m.processed)
    assert.equal(distinct, 6000)
    for (const [p, offsets] of byPartition) {
      assert.deepEqual(
        [...new Set(offsets)].sort((a, b) => a - b),
        [...Array(2000).keys()],
        `partition ${p} complete`,
      )
    }
  } finally {
    await member?.stop().catch(() => {})
    process.env[BOOTSTRAP_ENV] = savedBootstrap
    await stopLocalKafka({ env }).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a broker without an API version the engine is written against fails the start, naming the API and both sides', async () => {
  const { KafkaCluster } = await import('../../../src/kafka/cluster.ts')
  const original = KafkaCluster.prototype.apiVersions
  // A broker that offers Fetch only up to v12 (multilane's engine is written against v17).
  KafkaCluster.prototype.apiVersions = async function (
    this: InstanceType<typeof KafkaCluster>,
    nodeId: number,
  ) {
    const offered = new Map(await original.call(this, nodeId))
    offered.set(1, { min: 4, max: 12 })
    return offered
  }
  const topic = await createTopic('old-broker', 1)
  const consumer = new GroupConsumer({
    bootstrap: bootstrapServers(),
    clientId: 'old',
    groupId: uniqueName('old'),
    topics: [topic],
  })
  try {
    await assert.rejects(consumer.start(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'UNSUPPORTED_API_VERSION')
      assert.match(e.message, /Fetch/)
      assert.match(e.message, /17/)
      assert.match(e.message, /12/)
      return true
    })
  } finally {
    KafkaCluster.prototype.apiVersions = original
    await consumer.close()
  }
})
