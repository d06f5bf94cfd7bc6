// app.health(): live until the app fails or stops; ready when it runs and every member fetches,
// has partitions and no stuck partition (a record in flight longer than health.stuckAfterMs);
// invalid health options fail when the app is defined.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

test('a record in flight longer than stuckAfterMs makes the app not ready, naming group, topic and partition; ready again once it finishes', async () => {
  const topic = await createTopic('health-stuck', 1)
  const group = uniqueName('health-stuck')
  let release!: () => void
  const released = new Promise<void>((r) => (release = r))
  let started = false
  const app = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'health-stuck' },
    logger: false,
    health: { stuckAfterMs: 1000 },
  })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      handler: async (record) => {
        if (record.offset !== 0) return
        started = true
        await released
      },
    })
  })
  assert.deepEqual(
    { live: app.health().live, ready: app.health().ready, reasons: app.health().reasons },
    { live: true, ready: false, reasons: ['the app is not started'] },
  )
  await app.start()
  try {
    await waitUntil(() => app.health().ready, { message: 'ready once assigned' })
    await produceRecords(topic, 3, { partitions: 1 })
    await waitUntil(() => started, { message: 'the record is in flight' })
    await waitUntil(() => !app.health().ready, { message: 'not ready once the record is stuck' })
    const health = app.health()
    assert.equal(health.live, true)
    assert.match(
      health.reasons.join('\n'),
      new RegExp(
        `consumerGroup "${group}": topic "${topic}" partition 0 is stuck: a record has been in flight for \\d+ s`,
      ),
    )
    assert.deepEqual(
      health.groups[0]!.stuck.map((s) => [s.topic, s.partition]),
      [[topic, 0]],
    )
    release()
    await waitUntil(() => app.health().ready, { message: 'ready again once the record finished' })
  } finally {
    release()
    await app.stop()
  }
  const stopped = app.health()
  assert.equal(stopped.live, false)
  assert.deepEqual(stopped.reasons.slice(0, 1), ['the app is stopped'])
})

test('invalid health options fail when the app is defined, naming the option', () => {
  assert.throws(
    () => createApp({ kafka: { bootstrap: bootstrapServers() }, health: { stuckAfterMs: 0 } }),
    /health\.stuckAfterMs: must be an integer ≥ 1/,
  )
})

test('a share group member is ready once it has partitions', async () => {
  const topic = await createTopic('health-share', 1)
  const group = uniqueName('health-share')
  const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'health-share' }, logger: false })
  app.shareGroup(group, (g) => g.topic(topic, { handler: () => {} }))
  await app.start()
  try {
    await waitUntil(() => app.health().ready, {
      message: `the share member is ready (${app.health().reasons.join('; ')})`,
    })
    const [member] = app.health().groups
    assert.deepEqual([member?.group, member?.kind, member?.partitions], [group, 'share', 1])
  } finally {
    await app.stop()
  }
})
