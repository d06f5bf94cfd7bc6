// Share groups through the app, what an operator sees: statistics (no lag a member
// cannot know, the locks it holds), Prometheus metrics fed by the share events, and the default
// log of rejected records — on a real broker.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import { createApp } from '../../../src/app/app.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { instrumentPrometheus } from '../../../src/instrumentation/prometheus.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { shareGroup } from '../../support/share.ts'

test('statistics, Prometheus metrics and the default log of a share group member', async () => {
  const topic = await createTopic('share-app-metrics', 1)
  const group = await shareGroup('share-app-metrics')
  const total = 100
  await produceRecords(topic, total, { partitions: 1 })
  const logLines: Array<{ level: number; msg: string }> = []
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(JSON.parse(chunk.toString()) as { level: number; msg: string })
        done()
      },
    }),
  )
  const app = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'share-metrics' },
    logger,
    statisticsIntervalMs: 100,
  })
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let succeeded = 0
  app.shareGroup(group, (g) =>
    g.topic(topic, {
      processing: { capacity: 10 },
      // Offsets 10 and 11 fail twice (released twice each); offset 20 always (rejected on its 3rd delivery).
      retries: { mode: 'redeliver', maxRetries: 2, backoff: { initialMs: 10, maxMs: 10 } },
      handler: async (record) => {
        if (record.offset < 10) await gate
        if ((record.offset === 10 || record.offset === 11) && record.deliveryCount <= 2)
          throw new Error('flaky')
        if (record.offset === 20) throw new Error('poison')
        succeeded++
      },
    }),
  )
  const stats: Array<MultilaneEvents['statistics.emitted']> = []
  app.on('statistics.emitted', (e) => stats.push(e))
  const metrics = instrumentPrometheus(app)
  const value = async (name: string) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === `multilane_${name}`)
    return (metric?.values ?? []).reduce((n, v) => n + v.value, 0)
  }
  await app.start()
  try {
    // Offsets 0-9 are held by their handlers: the member holds their locks meanwhile.
    await waitUntil(() => stats.some((s) => s.partitions.some((p) => (p.locks ?? 0) >= 10)), {
      message: 'statistics show the locks held',
    })
    assert.ok((await value('share_locks_held')) >= 10, 'share_locks_held')
    release()
    await waitUntil(() => succeeded === total - 1, { timeoutMs: 60_000, message: `${total - 1} succeeded` })
    await waitUntil(async () => (await value('share_records_rejected_total')) === 1, {
      message: 'one rejected',
    })
  } finally {
    release()
    await app.stop()
    metrics.close()
  }
  assert.equal(await value('records_consumed_total'), total - 1)
  // 10 and 11 released twice each, 20 twice before its rejection.
  assert.equal(await value('share_records_released_total'), 6)
  assert.equal(await value('share_records_rejected_total'), 1)
  assert.equal(await value('share_locks_lost_total'), 0)
  assert.equal(
    (await metrics.registry.getSingleMetricAsString('multilane_partition_lag')).includes('{'),
    false,
  )
  for (const s of stats) {
    for (const p of s.partitions) {
      assert.equal(p.lag, -1, 'a share member reports no lag')
      assert.equal(p.committed, -1)
      assert.equal(typeof p.locks, 'number')
    }
  }
  const rejectedLine = logLines.find((l) => l.msg.includes('rejected on delivery 3'))
  assert.ok(rejectedLine, `the rejection was logged: ${logLines.map((l) => l.msg).join('\n')}`)
  assert.equal(rejectedLine.level, 40, 'at warn level')
})
