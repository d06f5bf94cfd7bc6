// Authorization on a broker in ACL mode: a SCRAM user without READ on a consumed topic, or
// without READ on its group (consumer, segment or share group), fails the app with an error that
// says authorization and names the topic or group (not retried forever); without WRITE on the
// dead letter topic a failed record is held and reported (event and default log), never dropped
// (in a segmented group, by its own segment only): once WRITE is granted it reaches the dead
// letter topic and the group commits past it.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type App, createApp } from '../../../src/app/app.ts'
import type { ErrorOccurredEvent } from '../../../src/instrumentation/events.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import { capturedLogger } from '../../support/captured-logger.ts'
import {
  committedOffsets,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
  within,
} from '../../support/kafka.ts'
import { type PrivateBroker, startPrivateBroker } from '../../support/private-broker.ts'
import { readRecords } from '../../support/read-topic.ts'
import { addScramUser, grant, saslSslKafka } from '../../support/security.ts'

let broker: PrivateBroker
let savedBootstrap: string | undefined
const user = { username: 'limited-user', password: `limited-secret-${process.pid}` }

before(async () => {
  broker = await startPrivateBroker({ acls: true })
  savedBootstrap = process.env[BOOTSTRAP_ENV]
  process.env[BOOTSTRAP_ENV] = broker.state.bootstrap
  await addScramUser(broker.state, user.username, user.password)
})

after(async () => {
  if (savedBootstrap === undefined) delete process.env[BOOTSTRAP_ENV]
  else process.env[BOOTSTRAP_ENV] = savedBootstrap
  await broker?.stop()
})

/** app.run() (no signal comes): it must end by itself with the authorization error. */
async function runFails(app: App): Promise<Error & { code?: string }> {
  const outcome = await within(
    app.run().then(
      () => new Error('run() resolved'),
      (error: unknown) => error as Error,
    ),
    90_000,
  )
  if (outcome === 'timed out') {
    await app.stop().catch(() => {})
    assert.fail('the app kept running (retrying) instead of failing with the authorization error')
  }
  return outcome
}

function assertAuthorization(error: Error & { code?: string }, code: string, names: RegExp[]): void {
  assert.equal(error.code, code, `${error.code}: ${error.message}`)
  assert.match(error.message, /not authorized/i)
  for (const name of names) assert.match(error.message, name)
}

test('consumer group without READ on the topic: run() fails naming the topic, the user and authorization', async () => {
  const topic = await createTopic('acl-no-topic', 1)
  const group = uniqueName('acl-no-topic')
  await grant(broker.state, user.username, [['GROUP', group, 'READ']])
  await produceRecords(topic, 5, { partitions: 1 })
  const app = createApp({
    kafka: { ...saslSslKafka(broker.state, user), startTimeoutMs: 5000 },
    logger: false,
  })
  app.consumerGroup(group, (g) => {
    g.topic(topic, { handler: () => {} })
  })
  const error = await runFails(app)
  assertAuthorization(error, 'AUTHORIZATION_FAILED', [new RegExp(`"${topic}"`), /"limited-user"/, /READ/])
})

test('consumer group without READ on the group: run() fails naming the group and authorization', async () => {
  const topic = await createTopic('acl-no-group', 1)
  const group = uniqueName('acl-no-group')
  await grant(broker.state, user.username, [['TOPIC', topic, 'READ']])
  await produceRecords(topic, 5, { partitions: 1 })
  const app = createApp({ kafka: saslSslKafka(broker.state, user), logger: false })
  app.consumerGroup(group, (g) => {
    g.topic(topic, { handler: () => {} })
  })
  const error = await runFails(app)
  assertAuthorization(error, 'AUTHORIZATION_FAILED', [new RegExp(`"${group}"`), /"limited-user"/, /READ/])
})

test('segmented group without READ on one segment group: run() fails naming that segment group', async () => {
  const topic = await createTopic('acl-seg', 1)
  const group = uniqueName('acl-seg')
  await grant(broker.state, user.username, [
    ['TOPIC', topic, 'READ'],
    ['GROUP', `${group}-parallel-0`, 'READ'],
  ])
  const app = createApp({ kafka: saslSslKafka(broker.state, user), logger: false })
  app.consumerGroup(group, (g) => {
    g.parallelSegments({ count: 2, partitioner: (r) => r.key })
    g.topic(topic, { handler: () => {} })
  })
  const error = await runFails(app)
  assertAuthorization(error, 'AUTHORIZATION_FAILED', [new RegExp(`"${group}-parallel-1"`)])
})

test('share group without READ on the group: run() fails naming the group and authorization', async () => {
  const topic = await createTopic('acl-share-group', 1)
  const group = uniqueName('acl-share-group')
  await grant(broker.state, user.username, [['TOPIC', topic, 'READ']])
  const app = createApp({ kafka: saslSslKafka(broker.state, user), logger: false })
  app.shareGroup(group, (g) => {
    g.topic(topic, { handler: () => {} })
  })
  const error = await runFails(app)
  assertAuthorization(error, 'AUTHORIZATION_FAILED', [new RegExp(`"${group}"`)])
})

test('share group without READ on the topic: run() fails naming the topic and authorization', async () => {
  const topic = await createTopic('acl-share-topic', 1)
  const group = uniqueName('acl-share-topic')
  await grant(broker.state, user.username, [['GROUP', group, 'READ']])
  await produceRecords(topic, 5, { partitions: 1 })
  const app = createApp({
    kafka: { ...saslSslKafka(broker.state, user), startTimeoutMs: 5000 },
    logger: false,
  })
  app.shareGroup(group, (g) => {
    g.topic(topic, { handler: () => {} })
  })
  const error = await runFails(app)
  assertAuthorization(error, 'AUTHORIZATION_FAILED', [new RegExp(`"${topic}"`)])
})

test('without WRITE on the dead letter topic: the record is held and reported, then dead-lettered once WRITE is granted', async () => {
  const topic = await createTopic('acl-dlq-src', 1)
  const dlq = await createTopic('acl-dlq', 1)
  const group = uniqueName('acl-dlq')
  await grant(broker.state, user.username, [
    ['TOPIC', topic, 'READ'],
    ['GROUP', group, 'READ'],
    ['TOPIC', dlq, 'DESCRIBE'],
  ])
  await produceRecords(topic, 3, { partitions: 1 })
  const logger = capturedLogger()
  const app = createApp({ kafka: { ...saslSslKafka(broker.state, user), requestTimeoutMs: 5000 }, logger })
  const errors: ErrorOccurredEvent[] = []
  app.on('error.occurred', (e) => errors.push(e))
  let handled = 0
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      deadLetterQueue: { topic: dlq, maxRetries: 0 },
      handler: (record) => {
        handled++
        if (record.offset === 1) throw new Error('poison record')
      },
    })
  })
  await app.start()
  try {
    await waitUntil(() => errors.some((e) => e.type === 'dead_letter_queue.dispatch.error'), {
      timeoutMs: 60_000,
      message: 'the failed dispatch is reported',
    })
    const reported = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.match(reported.error.message, /not authorized/i)
    assert.match(reported.error.message, new RegExp(`"${dlq}"`))
    assert.match(reported.error.message, /WRITE/)
    assert.ok(
      logger.lines.some((l) => l.includes('dead_letter_queue.dispatch.error') && /not authorized/i.test(l)),
      `the default log says so:\n${logger.lines.join('\n')}`,
    )
    // Held: the commit never passes offset 1 while the dispatch fails.
    await new Promise((r) => setTimeout(r, 3000))
    const held = await committedOffsets(group, topic, 1)
    assert.ok((held.get(0)?.offset ?? 0) <= 1, `committed ${held.get(0)?.offset} past the held record`)
    await grant(broker.state, user.username, [['TOPIC', dlq, 'WRITE']])
    await waitUntil(async () => (await committedOffsets(group, topic, 1)).get(0)?.offset === 3, {
      timeoutMs: 90_000,
      message: 'the group commits past the record once it is dead-lettered',
    })
  } finally {
    await app.stop()
  }
  const dead = await readRecords(dlq, 1)
  assert.equal(dead[0]?.headers.source_offset, '1', 'the held record reached the dead letter topic')
  assert.equal((await endOffsets(dlq, 1)).get(0), 1, 'once')
  assert.ok(handled >= 3)
})

test('segmented group without WRITE on the dead letter topic: the record holds only its own segment, then is dead-lettered once WRITE is granted', async () => {
  const topic = await createTopic('acl-seg-dlq-src', 1)
  const dlq = await createTopic('acl-seg-dlq', 1)
  const group = uniqueName('acl-seg-dlq')
  const segments = [`${group}-parallel-0`, `${group}-parallel-1`]
  await grant(broker.state, user.username, [
    ['TOPIC', topic, 'READ'],
    ['GROUP', segments[0]!, 'READ'],
    ['GROUP', segments[1]!, 'READ'],
    ['TOPIC', dlq, 'DESCRIBE'],
  ])
  await produceRecords(topic, 20, { partitions: 1 })
  // Record 1 (key k1) fails; its segment holds it, the other one goes on.
  const held = defaultSegmentReducer('k1', 2)
  const app = createApp({
    kafka: { ...saslSslKafka(broker.state, user), requestTimeoutMs: 5000 },
    logger: false,
  })
  const errors: ErrorOccurredEvent[] = []
  app.on('error.occurred', (e) => errors.push(e))
  app.consumerGroup(group, (g) => {
    g.parallelSegments({ count: 2, partitioner: (r) => r.keyString })
    g.topic(topic, {
      deadLetterQueue: { topic: dlq, maxRetries: 0 },
      handler: (record) => {
        if (record.offset === 1) throw new Error('poison record')
      },
    })
  })
  await app.start()
  try {
    await waitUntil(() => errors.some((e) => e.type === 'dead_letter_queue.dispatch.error'), {
      timeoutMs: 60_000,
      message: 'the failed dispatch is reported',
    })
    const reported = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.equal(reported.consumerGroup, segments[held])
    assert.match(reported.error.message, /not authorized to produce to topic/)
    await waitUntil(
      async () => (await committedOffsets(segments[1 - held]!, topic, 1)).get(0)?.offset === 20,
      {
        timeoutMs: 60_000,
        message: 'the other segment commits at the log end',
      },
    )
    await new Promise((r) => setTimeout(r, 2000))
    const stuck = await committedOffsets(segments[held]!, topic, 1)
    assert.ok(
      (stuck.get(0)?.offset ?? 0) <= 1,
      `segment ${held} committed ${stuck.get(0)?.offset} past the held record`,
    )
    await grant(broker.state, user.username, [['TOPIC', dlq, 'WRITE']])
    await waitUntil(async () => (await committedOffsets(segments[held]!, topic, 1)).get(0)?.offset === 20, {
      timeoutMs: 90_000,
      message: 'the held segment commits past the record once it is dead-lettered',
    })
  } finally {
    await app.stop()
  }
  const dead = await readRecords(dlq, 1)
  assert.equal(dead[0]?.headers.source_offset, '1')
  assert.equal(dead[0]?.headers.source_consumer_group, segments[held])
  assert.equal((await endOffsets(dlq, 1)).get(0), 1, 'once')
})

test('share group without WRITE on the dead letter topic: the record is held (not rejected) and reported until WRITE is granted', async () => {
  const topic = await createTopic('acl-share-dlq-src', 1)
  const dlq = await createTopic('acl-share-dlq', 1)
  const group = uniqueName('acl-share-dlq')
  await grant(broker.state, user.username, [
    ['TOPIC', topic, 'READ'],
    ['GROUP', group, 'READ'],
    ['GROUP', group, 'ALTER_CONFIGS'],
    ['TOPIC', dlq, 'DESCRIBE'],
  ])
  await produceRecords(topic, 3, { partitions: 1 })
  const logger = capturedLogger()
  const app = createApp({ kafka: { ...saslSslKafka(broker.state, user), requestTimeoutMs: 8000 }, logger })
  const errors: ErrorOccurredEvent[] = []
  let rejected = 0
  app.on('error.occurred', (e) => errors.push(e))
  app.on('share.rejected', () => {
    rejected++
  })
  app.shareGroup(group, (g) => {
    g.options({ autoOffsetReset: 'earliest' })
    g.topic(topic, {
      retries: { maxRetries: 0 },
      deadLetterQueue: { topic: dlq },
      handler: (record) => {
        if (record.offset === 1) throw new Error('poison record')
      },
    })
  })
  await app.start()
  try {
    await waitUntil(() => errors.some((e) => e.type === 'dead_letter_queue.dispatch.error'), {
      timeoutMs: 60_000,
      message: 'the failed dispatch is reported',
    })
    const reported = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.match(reported.error.message, /not authorized to produce to topic/)
    assert.match(reported.error.message, new RegExp(`"${dlq}"`))
    assert.ok(
      logger.lines.some((l) => l.includes('dead_letter_queue.dispatch.error')),
      'the default log says so',
    )
    assert.equal(rejected, 0, 'not rejected while the dead letter produce fails')
    assert.equal((await endOffsets(dlq, 1)).get(0), 0)
    await grant(broker.state, user.username, [['TOPIC', dlq, 'WRITE']])
    await waitUntil(async () => (await endOffsets(dlq, 1)).get(0) === 1, {
      timeoutMs: 90_000,
      message: 'the held record reaches the dead letter topic once WRITE is granted',
    })
    await waitUntil(() => rejected === 1, { timeoutMs: 60_000, message: 'then it is rejected on the broker' })
  } finally {
    await app.stop()
  }
  const dead = await readRecords(dlq, 1)
  assert.equal(dead[0]?.headers.source_offset, '1')
})
