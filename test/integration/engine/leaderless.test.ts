// A partition without a leader, on a cluster of this file's own (a second broker holds the
// only replica of one partition and is killed): the healthy partitions are still consumed, also
// by an app started while the partition has no leader, and metadata is asked for at a bounded
// rate, not in a tight loop that floods the brokers.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { addLocalBroker } from '../../../src/devkafka/added-broker.ts'
import { startLocalKafka, stopLocalKafka } from '../../../src/devkafka/local-broker.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import { committedOffsets, createAdmin, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

const dir = mkdtempSync(join(tmpdir(), 'multilane-leaderless-'))
const env = { ...process.env, MULTILANE_BROKER_DIR: dir }

before(async () => {
  const { state } = await startLocalKafka({ env })
  process.env[BOOTSTRAP_ENV] = state.bootstrap
})

after(async () => {
  await stopLocalKafka({ env })
  rmSync(dir, { recursive: true, force: true })
})

/** Leader node per partition (-1: none), read with multilane's own metadata client, which keeps partial answers. */
async function leaders(topic: string): Promise<number[]> {
  const cluster = new KafkaCluster(
    resolveConnection({ bootstrap: process.env[BOOTSTRAP_ENV]!, clientId: 'leaders' }),
  )
  try {
    const metadata = await cluster.refreshMetadata([topic])
    return metadata.get(topic)?.partitions.map((p) => p.nodeId) ?? []
  } finally {
    await cluster.close()
  }
}

/** Produces lines to partition 0 with kcat, without blocking this process's event loop. */
function kcatProduce(topic: string, input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const kcat = spawn('kcat', ['-P', '-b', process.env[BOOTSTRAP_ENV]!, '-t', topic, '-p', '0'])
    let stderr = ''
    kcat.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    kcat.once('error', reject)
    kcat.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`kcat exited ${code}: ${stderr}`)),
    )
    kcat.stdin.end(input)
  })
}

function startApp(group: string, topic: string, handled: string[]) {
  const app = createApp({
    kafka: { bootstrap: process.env[BOOTSTRAP_ENV]!, clientId: 'leaderless' },
    logger: false,
  })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { commitIntervalMs: 100 },
      handler: (r) => void handled.push(`${r.partition}:${r.offset}`),
    })
  })
  return app
}

test('a partition loses its only broker: metadata is asked for at a bounded rate, and an app started now consumes the others', async () => {
  const broker = await addLocalBroker({ env, nodeId: 2 })
  const topic = uniqueName('leaderless')
  const admin = createAdmin()
  try {
    await admin.createTopics({
      topics: [topic],
      assignments: [
        { partition: 0, brokers: [1] },
        { partition: 1, brokers: [2] },
      ],
    })
  } finally {
    await admin.close()
  }
  await waitUntil(async () => (await leaders(topic)).filter((l) => l >= 0).length === 2, {
    message: 'leaders elected',
  })
  await produceRecords(topic, 200, { partitions: 2 })

  // Count metadata requests of everything in this process.
  let metadataRequests = 0
  const refresh = KafkaCluster.prototype.refreshMetadata
  KafkaCluster.prototype.refreshMetadata = function (this: KafkaCluster, topics) {
    metadataRequests++
    return refresh.call(this, topics)
  }
  const running: string[] = []
  const first = startApp(uniqueName('leaderless'), topic, running)
  await first.start()
  const second: string[] = []
  let late: ReturnType<typeof startApp> | undefined
  try {
    await waitUntil(() => running.length === 200, { message: 'both partitions consumed' })
    process.kill(broker.pid, 'SIGKILL')
    await waitUntil(async () => (await leaders(topic))[1] === -1, {
      timeoutMs: 60_000,
      message: 'partition 1 has no leader after its broker died',
    })
    // Records keep arriving in partition 0, so its fetches return at once: they must not each
    // ask for metadata again while partition 1 has no leader. kcat produces them: the
    // @platformatic/kafka producer waits forever on a topic with a leaderless partition.
    const before = metadataRequests
    const started = Date.now()
    let produced = 0
    while (Date.now() - started < 3000) {
      await kcatProduce(topic, `${Array.from({ length: 50 }, (_, i) => `v${produced + i}`).join('\n')}\n`)
      produced += 50
    }
    const perSecond = (metadataRequests - before) / ((Date.now() - started) / 1000)
    assert.ok(perSecond <= 4, `metadata requests while partition 1 has no leader: ${perSecond.toFixed(1)}/s`)
    await waitUntil(() => running.length === 200 + produced, {
      message: 'the running app consumed partition 0 on',
    })

    // An app started while partition 1 has no leader still consumes the healthy partition.
    const group = uniqueName('leaderless-late')
    late = startApp(group, topic, second)
    await late.start()
    await waitUntil(() => second.length === 100 + produced, {
      message: 'partition 0 consumed by the new app',
    })
    await waitUntil(async () => (await committedOffsets(group, topic, 2)).get(0)?.offset === 100 + produced, {
      message: 'and committed',
    })
    assert.ok(second.every((id) => id.startsWith('0:')))
  } finally {
    KafkaCluster.prototype.refreshMetadata = refresh
    await late?.stop()
    await first.stop()
  }
})
