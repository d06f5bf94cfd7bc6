// `multilane kafka start --version 3.9.1`: a local broker of the last 3.x line, set up as most
// 3.x clusters run (the classic group protocol only, no share groups), beside the pinned 4.x one.
// A version the launcher does not run is refused before anything starts, and a directory whose
// broker runs another release is never silently reused for the one asked for.
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { Consumer, type Message, MessagesStreamModes, Producer, stringSerializers } from '@platformatic/kafka'
import { probeBroker } from '../../../src/devkafka/broker-probe.ts'
import { uniqueName } from '../../support/kafka.ts'
import { multilane, privateBrokerEnv } from '../../support/launcher.ts'

const VERSION = '3.9.1'
const CONSUMER_GROUP_HEARTBEAT = 68
const { dir, env } = privateBrokerEnv('kafka-3-9')
let bootstrap = ''

before(async () => {
  const started = multilane(['kafka', 'start', '--version', VERSION, '--json'], env)
  assert.equal(started.code, 0, started.stderr)
  const state = JSON.parse(started.stdout) as {
    version: string
    bootstrap: string
    features: Record<string, number>
  }
  assert.equal(state.version, VERSION)
  bootstrap = state.bootstrap
})

after(() => {
  multilane(['kafka', 'stop'], env)
  rmSync(dir, { recursive: true, force: true })
})

test('a 3.9.1 broker runs classic groups only: no share groups, no KIP-848 group feature', async () => {
  const status = multilane(['kafka', 'status', '--json'], env)
  assert.equal(status.code, 0, status.stderr)
  const state = JSON.parse(status.stdout) as { version: string; features: Record<string, number> }
  assert.equal(state.version, VERSION)
  assert.equal(state.features['share.version'], undefined)
  assert.equal(state.features['group.version'], undefined, 'the consumer protocol is not finalized')
  const properties = readFileSync(`${env.MULTILANE_BROKER_DIR}/server.properties`, 'utf8')
  assert.match(properties, /^group\.coordinator\.rebalance\.protocols=classic$/m)
  assert.doesNotMatch(properties, /^group\.share\./m, 'no settings 3.9 does not know')
  const [host = '', port = ''] = bootstrap.split(':')
  const facts = await probeBroker({ host, port: Number(port) }, 5000)
  // 3.9 still advertises the early-access ConsumerGroupHeartbeat v0; multilane's KIP-848 member
  // needs v1, which only 4.x offers.
  assert.ok((facts.apiMaxVersions.get(CONSUMER_GROUP_HEARTBEAT) ?? -1) < 1)
})

test('a classic consumer group consumes on it: every produced record read back', async () => {
  const topic = uniqueName('classic')
  const created = multilane(['topics', 'create', topic, '--partitions', '3', '--bootstrap', bootstrap], env)
  assert.equal(created.code, 0, created.stderr)
  const producer = new Producer({
    clientId: 'kafka-3-9-test',
    bootstrapBrokers: [bootstrap],
    serializers: stringSerializers,
  })
  try {
    await producer.send({
      messages: Array.from({ length: 30 }, (_, i) => ({
        topic,
        key: `k${i}`,
        value: `v${i}`,
        partition: i % 3,
      })),
    })
  } finally {
    await producer.close()
  }
  const consumer = new Consumer({
    clientId: 'kafka-3-9-test',
    groupId: uniqueName('classic-group'),
    bootstrapBrokers: [bootstrap],
    maxWaitTime: 200,
  })
  const values = new Set<string>()
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    })
    const timer = setTimeout(() => void stream.close(), 60_000)
    for await (const message of stream as AsyncIterable<Message>) {
      values.add(String(message.value))
      if (values.size === 30) break
    }
    clearTimeout(timer)
    await stream.close()
  } finally {
    await consumer.close(true)
  }
  assert.equal(values.size, 30)
})

test('a running 3.9.1 broker is not reused for another release asked for by --version', () => {
  const other = multilane(['kafka', 'start', '--version', '4.4.0'], env)
  assert.equal(other.code, 1)
  assert.match(other.stderr, /ALREADY_RUNNING_ELSEWHERE.*3\.9\.1.*multilane kafka stop/s)
})

test('a release the launcher does not run is refused, naming the flag, before anything starts', () => {
  const { dir: emptyDir, env: emptyEnv } = privateBrokerEnv('kafka-3-8')
  try {
    const refused = multilane(['kafka', 'start', '--version', '3.8.0'], emptyEnv)
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /--version.*3\.9\.x.*"3\.8\.0"/s)
    const status = multilane(['kafka', 'status'], emptyEnv)
    assert.equal(status.code, 1, 'no broker was started')
  } finally {
    rmSync(emptyDir, { recursive: true, force: true })
  }
})
