// Topics that do not exist are reported, on a real broker, never left to fail silently: a dead
// letter topic that does not exist fails the start (or, deleted while running, its dispatches
// time out and are retried, where an idempotent produce to it would never settle), and a
// subscribed topic that does not exist is reported with an event and a log line.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import type { ErrorOccurredEvent, MultilaneEvents } from '../../../src/instrumentation/events.ts'
import {
  bootstrapServers,
  committedOffsets,
  createAdmin,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'

test('a dead letter topic that does not exist fails the start, naming group, topic and option', async () => {
  const topic = await createTopic('dlq-missing-start', 1)
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'dlq-missing' }, logger: false })
  const group = uniqueName('dlq-missing')
  app.consumerGroup(group, (g) => {
    g.topic(topic, { deadLetterQueue: { topic: 'no-such-dlq-topic' }, handler: () => {} })
  })
  await assert.rejects(app.start(), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'DEAD_LETTER_TOPIC_MISSING')
    assert.match(
      e.message,
      new RegExp(
        `consumerGroup "${group}" › topic "${topic}" › deadLetterQueue.topic: topic "no-such-dlq-topic" does not exist`,
      ),
    )
    return true
  })
})

test('a dead letter topic still being created when the app starts is waited for, not reported missing', async () => {
  const topic = await createTopic('dlq-propagating', 1)
  const dlq = uniqueName('dlq-propagating-target')
  const app = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'dlq-propagating' },
    logger: false,
  })
  app.consumerGroup(uniqueName('dlq-propagating'), (g) => {
    g.topic(topic, { deadLetterQueue: { topic: dlq }, handler: () => {} })
  })
  // The topic appears while the start check looks (as on a cold broker, where a just-created
  // topic reaches the metadata a moment later): the check sees it missing first.
  const starting = app.start()
  const admin = createAdmin()
  try {
    await new Promise((r) => setTimeout(r, 500))
    await admin.createTopics({ topics: [dlq], partitions: 1, replicas: 1 })
  } finally {
    await admin.close()
  }
  try {
    await starting
  } finally {
    await app.stop()
  }
})

test('a dead letter topic deleted while running: dispatches time out, are reported and retried, nothing is lost', async () => {
  const topic = await createTopic('dlq-gone', 1)
  const dlq = await createTopic('dlq-gone-target', 1)
  await produceRecords(topic, 5, { partitions: 1 })
  const group = uniqueName('dlq-gone')
  const errors: ErrorOccurredEvent[] = []
  const dispatched: number[] = []
  let reached!: () => void
  const atPoison = new Promise<void>((r) => (reached = r))
  let deleteDone!: () => void
  const deleted = new Promise<void>((r) => (deleteDone = r))
  const app = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'dlq-gone', requestTimeoutMs: 2000 },
    logger: false,
  })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { commitIntervalMs: 100 },
      retries: { maxRetries: 0, backoff: { initialMs: 100, maxMs: 500 } },
      deadLetterQueue: { topic: dlq },
      handler: async (record) => {
        if (record.offset !== 2) return
        reached()
        await deleted
        throw new Error('poison')
      },
    })
  })
  app.on('error.occurred', (e) => errors.push(e))
  app.on('dead_letter_queue.dispatched', (e) => dispatched.push(e.offset))
  await app.start()
  try {
    // The topic goes away after the start check, before the record fails.
    await atPoison
    const admin = createAdmin()
    try {
      await admin.deleteTopics({ topics: [dlq] })
      // Deletion completes asynchronously: until the broker's metadata has it gone, a produce
      // may still land (and the dispatch would rightly succeed).
      await waitUntil(async () => !(await admin.listTopics()).includes(dlq), {
        message: 'the dead letter topic is gone from the metadata',
      })
    } finally {
      await admin.close()
    }
    deleteDone()
    await waitUntil(() => errors.some((e) => e.type === 'dead_letter_queue.dispatch.error'), {
      message: 'the dispatch failed within its deadline and was reported',
    }).catch((error: Error) => {
      throw new Error(`${error.message} (dispatched: ${dispatched.join(', ') || 'none'})`)
    })
    const reported = errors.find((e) => e.type === 'dead_letter_queue.dispatch.error')!
    assert.match(reported.error.message, /did not finish within 2000 ms|does not exist|unknown topic/i)
    assert.equal(reported.offset, 2)
    // Nothing passes the record while it cannot be dead-lettered.
    assert.ok(((await committedOffsets(group, topic, 1)).get(0)?.offset ?? 0) <= 2)
    // The topic comes back: the retried dispatch goes through and the partition moves on.
    const again = createAdmin()
    try {
      await again.createTopics({ topics: [dlq], partitions: 1, replicas: 1 })
    } finally {
      await again.close()
    }
    await waitUntil(() => dispatched.includes(2), {
      timeoutMs: 60_000,
      message: 'dead-lettered after the topic came back',
    })
    await waitUntil(async () => (await committedOffsets(group, topic, 1)).get(0)?.offset === 5, {
      message: 'committed past it',
    })
  } finally {
    await app.stop()
  }
  const [dead] = await readRecords(dlq, 1)
  assert.equal(dead?.headers.source_offset, '2')
})

test('a subscribed topic that does not exist is reported (event and log line) until it is created, then consumed', async () => {
  const missing = uniqueName('not-yet')
  const group = uniqueName('not-yet')
  const reports: Array<MultilaneEvents['topics.missing']> = []
  const logged: string[] = []
  const logger = {
    info: () => {},
    debug: () => {},
    error: () => {},
    warn: (_fields: unknown, message?: string) => void logged.push(String(message)),
    child() {
      return logger
    },
  }
  const handled: number[] = []
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'not-yet' }, logger })
  app.consumerGroup(group, (g) => {
    g.topic(missing, { processing: { commitIntervalMs: 100 }, handler: (r) => void handled.push(r.offset) })
  })
  app.on('topics.missing', (e) => reports.push(e))
  await app.start()
  try {
    assert.deepEqual(reports, [{ consumerGroup: group, topics: [missing] }])
    assert.ok(
      logged.some((l) => l.includes(`topics that do not exist: ${missing}`)),
      logged.join('\n'),
    )
    const admin = createAdmin()
    try {
      await admin.createTopics({ topics: [missing], partitions: 1, replicas: 1 })
    } finally {
      await admin.close()
    }
    await produceRecords(missing, 3, { partitions: 1 })
    await waitUntil(() => handled.length === 3, { timeoutMs: 60_000, message: 'consumed once created' })
  } finally {
    await app.stop()
  }
})
