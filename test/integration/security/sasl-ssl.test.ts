// SASL/SCRAM-SHA-512 over TLS, as a least-privileged user on a broker in ACL mode: a consumer
// group, a segmented group (parallel segments) and a share group each handle every record and
// finish (committed at the log end / share lag 0), with only the ACLs docs/security.md lists.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { runUntilIdle } from '../../../src/testing/run-until-idle.ts'
import { createTopic, produceRecords, uniqueName } from '../../support/kafka.ts'
import { type PrivateBroker, startPrivateBroker } from '../../support/private-broker.ts'
import { addScramUser, grant, saslSslKafka } from '../../support/security.ts'

let broker: PrivateBroker
let savedBootstrap: string | undefined
const user = { username: 'app-user', password: `app-secret-${process.pid}` }

before(async () => {
  broker = await startPrivateBroker({ acls: true })
  savedBootstrap = process.env[BOOTSTRAP_ENV]
  // Topics are created and produced through the plain listener (User:ANONYMOUS, a super user).
  process.env[BOOTSTRAP_ENV] = broker.state.bootstrap
  await addScramUser(broker.state, user.username, user.password)
})

after(async () => {
  if (savedBootstrap === undefined) delete process.env[BOOTSTRAP_ENV]
  else process.env[BOOTSTRAP_ENV] = savedBootstrap
  await broker?.stop()
})

test('the broker reports its SASL_SSL listener and ACL mode', () => {
  assert.match(broker.state.saslSslBootstrap ?? '', /^127\.0\.0\.1:\d+$/)
  assert.equal(broker.state.acls, true)
})

test('a consumer group over SASL_SSL with SCRAM-SHA-512: topic READ and group READ suffice', async () => {
  const topic = await createTopic('sec-cg', 2)
  const group = uniqueName('sec-cg')
  await grant(broker.state, user.username, [
    ['TOPIC', topic, 'READ'],
    ['GROUP', group, 'READ'],
  ])
  await produceRecords(topic, 100, { partitions: 2 })
  const app = createApp({ kafka: saslSslKafka(broker.state, user), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, { handler: () => {} })
  })
  const { handled } = await runUntilIdle(app, { timeoutMs: 90_000 })
  assert.equal(new Set(handled.map((h) => `${h.partition}:${h.offset}`)).size, 100)
})

test('a segmented group (3 parallel segments) over SASL_SSL: READ on the segment groups (a prefix ACL)', async () => {
  const topic = await createTopic('sec-seg', 2)
  const group = uniqueName('sec-seg')
  await grant(broker.state, user.username, [
    ['TOPIC', topic, 'READ'],
    ['GROUP', `${group}-parallel-*`, 'READ'],
  ])
  await produceRecords(topic, 120, { partitions: 2 })
  const app = createApp({ kafka: saslSslKafka(broker.state, user), logger: false })
  app.consumerGroup(group, (g) => {
    g.parallelSegments({ count: 3, partitioner: (r) => r.key })
    g.topic(topic, { processing: { style: 'continuous', ordering: 'key' }, handler: () => {} })
  })
  const { handled } = await runUntilIdle(app, { timeoutMs: 90_000 })
  assert.equal(new Set(handled.map((h) => `${h.partition}:${h.offset}`)).size, 120)
  assert.equal(new Set(handled.map((h) => h.consumerGroup)).size, 3, 'every segment handled records')
})

test('a share group over SASL_SSL: topic READ, group READ (and ALTER_CONFIGS on the group for autoOffsetReset)', async () => {
  const topic = await createTopic('sec-share', 2)
  const group = uniqueName('sec-share')
  await grant(broker.state, user.username, [
    ['TOPIC', topic, 'READ'],
    ['GROUP', group, 'READ'],
    ['GROUP', group, 'ALTER_CONFIGS'],
    ['GROUP', group, 'DESCRIBE_CONFIGS'],
  ])
  await produceRecords(topic, 80, { partitions: 2 })
  const app = createApp({ kafka: saslSslKafka(broker.state, user), logger: false })
  app.shareGroup(group, (g) => {
    g.options({ autoOffsetReset: 'earliest' })
    g.topic(topic, { handler: () => {} })
  })
  const { handled } = await runUntilIdle(app, { timeoutMs: 90_000 })
  assert.equal(new Set(handled.map((h) => `${h.partition}:${h.offset}`)).size, 80)
})
