// Prometheus metrics of a real app: counts, commits, lag and assignment as the broker sees them.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Registry } from 'prom-client'
import { createApp } from '../../../src/app/app.ts'
import { instrumentPrometheus } from '../../../src/instrumentation/prometheus.ts'
import {
  bootstrapServers,
  createTopic,
  endOffsets,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

type Labels = Record<string, string | number>

/** Samples of one metric (histograms: by sample name too), from the JSON view of the registry. */
async function values(registry: Registry, name: string): Promise<Array<{ labels: Labels; value: number }>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  assert.ok(metric, `metric ${name} is registered`)
  return metric.values.map((v) => ({
    labels: { ...(v.labels as Labels), ...('metricName' in v ? { sample: String(v.metricName) } : {}) },
    value: v.value,
  }))
}

async function sum(registry: Registry, name: string, match: Labels = {}): Promise<number> {
  const all = await values(registry, name)
  return all
    .filter((v) => Object.entries(match).every(([k, want]) => String(v.labels[k]) === String(want)))
    .reduce((total, v) => total + v.value, 0)
}

/** partition → value of a per-partition gauge. */
async function byPartition(registry: Registry, name: string): Promise<Map<number, number>> {
  return new Map((await values(registry, name)).map((v) => [Number(v.labels.partition), v.value]))
}

test('metrics follow a real app: consumed, dead-lettered, errors, commits, lag and assignment', async () => {
  const topic = await createTopic('prom-source', 3)
  const dlqTopic = await createTopic('prom-dlq', 1)
  await produceRecords(topic, 300, { partitions: 3 })
  // 2:99 is its partition's last record: the commit must still reach the log end past it.
  const poison = new Set(['0:10', '1:50', '2:99'])
  const group = uniqueName('prom')
  const app = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'prom' },
    logger: false,
    statisticsIntervalMs: 100,
  })
  app.consumerGroup(group, (g) => {
    g.topic(topic, {
      processing: { style: 'continuous', ordering: 'partition', commitIntervalMs: 100 },
      retries: { backoff: { initialMs: 10, maxMs: 20, exponential: false } },
      deadLetterQueue: { topic: dlqTopic, maxRetries: 1 },
      handler: async (record) => {
        if (poison.has(`${record.partition}:${record.offset}`)) throw new Error(`poison ${record.offset}`)
      },
    })
  })
  const metrics = instrumentPrometheus(app)
  const { registry } = metrics
  const partitionSeries = [
    'multilane_committed_offset',
    'multilane_partition_lag',
    'multilane_partition_buffered_records',
    'multilane_partition_in_flight_records',
    'multilane_partition_paused',
  ]
  const ends = await endOffsets(topic, 3)
  assert.deepEqual([...ends.values()], [100, 100, 100])

  await app.start()
  try {
    await waitUntil(
      async () =>
        (await sum(registry, 'multilane_records_consumed_total', { consumer_group: group, topic })) === 297 &&
        (await sum(registry, 'multilane_dead_letter_records_total')) === 3,
      { timeoutMs: 60_000, message: '297 consumed + 3 dead-lettered, by the metrics' },
    )
    await waitUntil(
      async () => {
        const committed = await byPartition(registry, 'multilane_committed_offset')
        const lag = await byPartition(registry, 'multilane_partition_lag')
        const inFlight = await byPartition(registry, 'multilane_partition_in_flight_records')
        const paused = await byPartition(registry, 'multilane_partition_paused')
        return [0, 1, 2].every(
          (p) =>
            committed.get(p) === ends.get(p) &&
            lag.get(p) === 0 &&
            inFlight.get(p) === 0 &&
            paused.get(p) === 0,
        )
      },
      { message: 'committed_offset at the log end, lag 0, nothing in flight or paused on every partition' },
    )

    assert.equal(await sum(registry, 'multilane_records_consumed_total'), 297)
    const perPartition = await byPartition(registry, 'multilane_records_consumed_total')
    assert.deepEqual([...perPartition.entries()].sort(), [
      [0, 99],
      [1, 99],
      [2, 99],
    ])
    assert.deepEqual(await values(registry, 'multilane_dead_letter_records_total'), [
      { labels: { consumer_group: group, topic, dead_letter_topic: dlqTopic }, value: 3 },
    ])
    // maxRetries 1: each poison record fails twice before it is dead-lettered.
    assert.equal(await sum(registry, 'multilane_errors_total', { type: 'consumer.handler.error' }), 6)
    assert.equal(
      await sum(registry, 'multilane_errors_total', {
        type: 'consumer.handler.error',
        topic,
        consumer_group: group,
      }),
      6,
    )
    assert.equal(
      await sum(registry, 'multilane_handler_duration_seconds', {
        sample: 'multilane_handler_duration_seconds_count',
        consumer_group: group,
        topic,
      }),
      297,
    )
    assert.ok((await sum(registry, 'multilane_commits_total', { consumer_group: group })) >= 1)
    assert.deepEqual(await values(registry, 'multilane_assigned_partitions'), [
      { labels: { consumer_group: group }, value: 3 },
    ])
  } finally {
    await app.stop()
  }

  // Leaving the group revokes everything: no partition series left, nothing assigned.
  for (const name of partitionSeries) assert.deepEqual(await values(registry, name), [], name)
  assert.deepEqual(await values(registry, 'multilane_assigned_partitions'), [
    { labels: { consumer_group: group }, value: 0 },
  ])
  assert.equal(await sum(registry, 'multilane_records_consumed_total'), 297, 'counters survive the shutdown')
  metrics.close()
})
