// The Prometheus instrumentation driven by a bare EventBus: no Kafka, exact exposition values.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Registry } from 'prom-client'
import { EventBus, type EventName } from '../../../src/instrumentation/events.ts'
import { instrumentPrometheus, MetricsOptionsError } from '../../../src/instrumentation/prometheus.ts'

const GROUP = 'billing'
const TOPIC = 'orders'
const ALL_EVENTS: EventName[] = [
  'error.occurred',
  'consumer.consumed',
  'offsets.committed',
  'partitions.assigned',
  'partitions.revoked',
  'dead_letter_queue.dispatched',
  'offsets.map_limit_reached',
  'statistics.emitted',
  'share.released',
  'share.rejected',
  'share.lock_renewed',
  'share.lock_lost',
]

/** The sample lines of one metric (no HELP/TYPE), as exposed. */
async function samples(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.getSingleMetricAsString(name)
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))
}

function consumed(bus: EventBus, partition: number, offset: number, durationMs: number): void {
  bus.emit('consumer.consumed', {
    consumerGroup: GROUP,
    topic: TOPIC,
    partition,
    offset,
    durationMs,
    attempts: 1,
  })
}

function statistics(bus: EventBus, partitions: number[], lag = 10): void {
  bus.emit('statistics.emitted', {
    consumerGroup: GROUP,
    partitions: partitions.map((partition) => ({
      topic: TOPIC,
      partition,
      lag: lag + partition,
      buffered: 5 + partition,
      inFlight: partition,
      committed: 100 + partition,
      paused: partition === 1,
    })),
  })
}

const assign = (bus: EventBus, partitions: number[]) =>
  bus.emit('partitions.assigned', {
    consumerGroup: GROUP,
    partitions: partitions.map((partition) => ({ topic: TOPIC, partition })),
  })

const revoke = (bus: EventBus, partitions: number[], reason: 'revoked' | 'lost' | 'closing' = 'revoked') =>
  bus.emit('partitions.revoked', {
    consumerGroup: GROUP,
    partitions: partitions.map((partition) => ({ topic: TOPIC, partition })),
    reason,
  })

const labels = (partition: number) => `{consumer_group="${GROUP}",topic="${TOPIC}",partition="${partition}"}`

test('a realistic event sequence yields exact metric values', async () => {
  const bus = new EventBus()
  const { registry } = instrumentPrometheus(bus, { durationBuckets: [0.1, 0.5, 1] })

  assign(bus, [0, 1, 2])
  consumed(bus, 0, 0, 250)
  consumed(bus, 0, 1, 500)
  consumed(bus, 1, 0, 2000)
  const error = new Error('boom')
  for (const attempt of [1, 2]) {
    bus.emit('error.occurred', {
      type: 'consumer.handler.error',
      error,
      consumerGroup: GROUP,
      topic: TOPIC,
      partition: 2,
      offset: 0,
      attempt,
    })
  }
  bus.emit('error.occurred', { type: 'consumer.commit.error', error, consumerGroup: GROUP })
  bus.emit('error.occurred', { type: 'consumer.fatal', error })
  bus.emit('dead_letter_queue.dispatched', {
    consumerGroup: GROUP,
    topic: TOPIC,
    partition: 2,
    offset: 0,
    deadLetterTopic: 'orders.dlq',
    attempts: 2,
    error,
  })
  bus.emit('offsets.committed', {
    consumerGroup: GROUP,
    offsets: [
      { topic: TOPIC, partition: 0, offset: 2, offsetMapBytes: 0 },
      { topic: TOPIC, partition: 2, offset: 1, offsetMapBytes: 0 },
    ],
  })
  bus.emit('offsets.committed', {
    consumerGroup: GROUP,
    offsets: [{ topic: TOPIC, partition: 1, offset: 1, offsetMapBytes: 0 }],
  })

  assert.equal(
    await registry.getSingleMetricAsString('multilane_records_consumed_total'),
    [
      '# HELP multilane_records_consumed_total Records handled successfully.',
      '# TYPE multilane_records_consumed_total counter',
      `multilane_records_consumed_total${labels(0)} 2`,
      `multilane_records_consumed_total${labels(1)} 1`,
    ].join('\n'),
  )
  const hl = `consumer_group="${GROUP}",topic="${TOPIC}"`
  assert.deepEqual(await samples(registry, 'multilane_handler_duration_seconds'), [
    `multilane_handler_duration_seconds_bucket{le="0.1",${hl}} 0`,
    `multilane_handler_duration_seconds_bucket{le="0.5",${hl}} 2`,
    `multilane_handler_duration_seconds_bucket{le="1",${hl}} 2`,
    `multilane_handler_duration_seconds_bucket{le="+Inf",${hl}} 3`,
    `multilane_handler_duration_seconds_sum{${hl}} 2.75`,
    `multilane_handler_duration_seconds_count{${hl}} 3`,
  ])
  assert.deepEqual(await samples(registry, 'multilane_errors_total'), [
    `multilane_errors_total{type="consumer.handler.error",${hl}} 2`,
    `multilane_errors_total{type="consumer.commit.error",consumer_group="${GROUP}",topic=""} 1`,
    'multilane_errors_total{type="consumer.fatal",consumer_group="",topic=""} 1',
  ])
  assert.deepEqual(await samples(registry, 'multilane_dead_letter_records_total'), [
    `multilane_dead_letter_records_total{${hl},dead_letter_topic="orders.dlq"} 1`,
  ])
  assert.deepEqual(await samples(registry, 'multilane_commits_total'), [
    `multilane_commits_total{consumer_group="${GROUP}"} 2`,
  ])
  assert.deepEqual(await samples(registry, 'multilane_committed_offset'), [
    `multilane_committed_offset${labels(0)} 2`,
    `multilane_committed_offset${labels(2)} 1`,
    `multilane_committed_offset${labels(1)} 1`,
  ])
  assert.deepEqual(await samples(registry, 'multilane_assigned_partitions'), [
    `multilane_assigned_partitions{consumer_group="${GROUP}"} 3`,
  ])

  statistics(bus, [0, 1, 2])
  assert.deepEqual(await samples(registry, 'multilane_partition_lag'), [
    `multilane_partition_lag${labels(0)} 10`,
    `multilane_partition_lag${labels(1)} 11`,
    `multilane_partition_lag${labels(2)} 12`,
  ])
  assert.deepEqual(await samples(registry, 'multilane_partition_buffered_records'), [
    `multilane_partition_buffered_records${labels(0)} 5`,
    `multilane_partition_buffered_records${labels(1)} 6`,
    `multilane_partition_buffered_records${labels(2)} 7`,
  ])
  assert.deepEqual(await samples(registry, 'multilane_partition_in_flight_records'), [
    `multilane_partition_in_flight_records${labels(0)} 0`,
    `multilane_partition_in_flight_records${labels(1)} 1`,
    `multilane_partition_in_flight_records${labels(2)} 2`,
  ])
  assert.deepEqual(await samples(registry, 'multilane_partition_paused'), [
    `multilane_partition_paused${labels(0)} 0`,
    `multilane_partition_paused${labels(1)} 1`,
    `multilane_partition_paused${labels(2)} 0`,
  ])
  // Statistics carry the committed offset too (including one committed before this member).
  assert.deepEqual(await samples(registry, 'multilane_committed_offset'), [
    `multilane_committed_offset${labels(0)} 100`,
    `multilane_committed_offset${labels(2)} 102`,
    `multilane_committed_offset${labels(1)} 101`,
  ])

  // A later tick moves the gauges; counters are untouched by statistics.
  statistics(bus, [0, 1, 2], 0)
  assert.deepEqual(await samples(registry, 'multilane_partition_lag'), [
    `multilane_partition_lag${labels(0)} 0`,
    `multilane_partition_lag${labels(1)} 1`,
    `multilane_partition_lag${labels(2)} 2`,
  ])
})

test('revocation removes the partition series and lowers assigned_partitions; reassignment restores them', async () => {
  const bus = new EventBus()
  const { registry } = instrumentPrometheus(bus)
  assign(bus, [0, 1, 2])
  consumed(bus, 2, 0, 1)
  statistics(bus, [0, 1, 2])

  revoke(bus, [2])
  const perPartition = [
    'multilane_partition_lag',
    'multilane_partition_buffered_records',
    'multilane_partition_in_flight_records',
    'multilane_partition_paused',
    'multilane_committed_offset',
  ]
  for (const name of perPartition) {
    const lines = await samples(registry, name)
    assert.equal(lines.length, 2, `${name}: ${lines.join(' | ')}`)
    assert.ok(!lines.some((l) => l.includes('partition="2"')), `${name} still reports partition 2`)
  }
  assert.deepEqual(await samples(registry, 'multilane_assigned_partitions'), [
    `multilane_assigned_partitions{consumer_group="${GROUP}"} 2`,
  ])
  // Counters are cumulative: a revocation does not reset them.
  assert.deepEqual(await samples(registry, 'multilane_records_consumed_total'), [
    `multilane_records_consumed_total${labels(2)} 1`,
  ])

  // A statistics tick or commit racing the revocation does not bring the series back.
  statistics(bus, [0, 1, 2])
  bus.emit('offsets.committed', {
    consumerGroup: GROUP,
    offsets: [{ topic: TOPIC, partition: 2, offset: 7, offsetMapBytes: 0 }],
  })
  for (const name of perPartition) {
    assert.ok(!(await samples(registry, name)).some((l) => l.includes('partition="2"')), name)
  }

  assign(bus, [2])
  statistics(bus, [0, 1, 2], 3)
  assert.deepEqual(await samples(registry, 'multilane_partition_lag'), [
    `multilane_partition_lag${labels(0)} 3`,
    `multilane_partition_lag${labels(1)} 4`,
    `multilane_partition_lag${labels(2)} 5`,
  ])
  assert.deepEqual(await samples(registry, 'multilane_assigned_partitions'), [
    `multilane_assigned_partitions{consumer_group="${GROUP}"} 3`,
  ])

  // Shutdown revokes everything (reason closing): no partition series left, 0 assigned.
  revoke(bus, [0, 1, 2], 'closing')
  for (const name of perPartition) assert.deepEqual(await samples(registry, name), [], name)
  assert.deepEqual(await samples(registry, 'multilane_assigned_partitions'), [
    `multilane_assigned_partitions{consumer_group="${GROUP}"} 0`,
  ])
})

test('close() removes every listener and stops updates; values stay readable', async () => {
  const bus = new EventBus()
  const metrics = instrumentPrometheus(bus)
  for (const name of ALL_EVENTS.filter((n) => n !== 'offsets.map_limit_reached')) {
    assert.ok(bus.listening(name), `listens to ${name}`)
  }
  assign(bus, [0])
  consumed(bus, 0, 0, 1)
  metrics.close()
  metrics.close() // idempotent
  for (const name of ALL_EVENTS) assert.equal(bus.listening(name), false, `still listens to ${name}`)

  consumed(bus, 0, 1, 1)
  assign(bus, [1])
  statistics(bus, [0])
  bus.emit('error.occurred', { type: 'consumer.fatal', error: new Error('x') })
  assert.deepEqual(await samples(metrics.registry, 'multilane_records_consumed_total'), [
    `multilane_records_consumed_total${labels(0)} 1`,
  ])
  assert.deepEqual(await samples(metrics.registry, 'multilane_assigned_partitions'), [
    `multilane_assigned_partitions{consumer_group="${GROUP}"} 1`,
  ])
  assert.deepEqual(await samples(metrics.registry, 'multilane_partition_lag'), [])
  assert.deepEqual(await samples(metrics.registry, 'multilane_errors_total'), [])
})

test('each call gets its own registry by default; a given registry and prefix are used', async () => {
  const a = instrumentPrometheus(new EventBus())
  const b = instrumentPrometheus(new EventBus())
  assert.notEqual(a.registry, b.registry)

  const registry = new Registry()
  const bus = new EventBus()
  const custom = instrumentPrometheus(bus, { registry, prefix: 'app:' })
  assert.equal(custom.registry, registry)
  const empty = instrumentPrometheus(bus, { registry, prefix: '' })
  consumed(bus, 0, 0, 1)
  assert.deepEqual(await samples(registry, 'app:records_consumed_total'), [
    `app:records_consumed_total${labels(0)} 1`,
  ])
  assert.deepEqual(await samples(registry, 'records_consumed_total'), [
    `records_consumed_total${labels(0)} 1`,
  ])
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort()
  assert.equal(names.length, 32)
  assert.ok(names.includes('app:handler_duration_seconds') && names.includes('partition_paused'))
  custom.close()
  empty.close()
})

test('invalid options are rejected naming the option and the rule', async () => {
  const bus = new EventBus()
  const rejects = (options: unknown, option: string, rule: RegExp) => {
    assert.throws(
      () => instrumentPrometheus(bus, options as Parameters<typeof instrumentPrometheus>[1]),
      (error: unknown) => {
        assert.ok(error instanceof MetricsOptionsError)
        assert.equal(error.code, 'INVALID_METRICS_OPTIONS')
        assert.equal(error.option, option)
        assert.ok(error.message.startsWith(`${option}: `), error.message)
        assert.match(error.message, rule)
        return true
      },
    )
  }
  const nameRule = /\[a-zA-Z_:\]\[a-zA-Z0-9_:\]\*/
  rejects({ prefix: 'my-app_' }, 'prefix', nameRule)
  rejects({ prefix: '1st_' }, 'prefix', nameRule)
  rejects({ prefix: 'a b' }, 'prefix', /got "a b"/)
  rejects({ prefix: 42 }, 'prefix', /got 42/)
  const bucketRule = /finite positive numbers in strictly ascending order/
  rejects({ durationBuckets: [] }, 'durationBuckets', bucketRule)
  rejects({ durationBuckets: 'fast' }, 'durationBuckets', bucketRule)
  rejects({ durationBuckets: [0, 1] }, 'durationBuckets[0]', /got 0/)
  rejects({ durationBuckets: [-1] }, 'durationBuckets[0]', /got -1/)
  rejects({ durationBuckets: [0.5, 0.1] }, 'durationBuckets[1]', /got 0.1/)
  rejects({ durationBuckets: [0.5, 0.5] }, 'durationBuckets[1]', bucketRule)
  rejects({ durationBuckets: [1, Number.POSITIVE_INFINITY] }, 'durationBuckets[1]', bucketRule)
  rejects({ durationBuckets: [1, Number.NaN] }, 'durationBuckets[1]', bucketRule)
  rejects({ registry: {} }, 'registry', /prom-client Registry/)
  // Nothing was listened to by the rejected calls.
  for (const name of ALL_EVENTS) assert.equal(bus.listening(name), false, name)

  // A registry that already holds these metrics: refused before registering anything.
  const registry = new Registry()
  instrumentPrometheus(new EventBus(), { registry })
  rejects({ registry }, 'registry', /already has a metric named "multilane_records_consumed_total"/)
  const other = new Registry()
  instrumentPrometheus(new EventBus(), { registry: other, prefix: 'x_' })
  other.removeSingleMetric('x_partition_paused')
  rejects({ registry: other, prefix: 'x_' }, 'registry', /"x_records_consumed_total"/)
  assert.equal((await other.getMetricsAsJSON()).length, 15, 'the refused call registered nothing')
})

test('share groups: released, rejected, renewed and lost locks are counted; locks held is a gauge; no lag or commit series', async () => {
  const bus = new EventBus()
  const { registry } = instrumentPrometheus(bus)
  assign(bus, [0])
  const record = (offset: number, deliveryCount = 1) => ({
    consumerGroup: GROUP,
    topic: TOPIC,
    partition: 0,
    offset,
    deliveryCount,
  })
  bus.emit('share.released', record(1))
  bus.emit('share.released', record(2))
  bus.emit('share.rejected', record(1, 4))
  bus.emit('share.lock_renewed', { ...record(3), lockDeadline: Date.now() + 30_000 })
  bus.emit('share.lock_lost', { ...record(5), reason: 'the connection closed' })
  consumed(bus, 0, 3, 12)
  bus.emit('statistics.emitted', {
    consumerGroup: GROUP,
    partitions: [
      {
        topic: TOPIC,
        partition: 0,
        lag: -1,
        buffered: 40,
        inFlight: 10,
        committed: -1,
        paused: false,
        locks: 50,
      },
    ],
  })
  const one = (metric: string, value: number) => [`multilane_${metric}${labels(0)} ${value}`]
  assert.deepEqual(
    await samples(registry, 'multilane_share_records_released_total'),
    one('share_records_released_total', 2),
  )
  assert.deepEqual(
    await samples(registry, 'multilane_share_records_rejected_total'),
    one('share_records_rejected_total', 1),
  )
  assert.deepEqual(
    await samples(registry, 'multilane_share_lock_renewals_total'),
    one('share_lock_renewals_total', 1),
  )
  assert.deepEqual(
    await samples(registry, 'multilane_share_locks_lost_total'),
    one('share_locks_lost_total', 1),
  )
  assert.deepEqual(await samples(registry, 'multilane_share_locks_held'), one('share_locks_held', 50))
  assert.deepEqual(
    await samples(registry, 'multilane_records_consumed_total'),
    one('records_consumed_total', 1),
  )
  assert.deepEqual(
    await samples(registry, 'multilane_partition_in_flight_records'),
    one('partition_in_flight_records', 10),
  )
  assert.deepEqual(await samples(registry, 'multilane_partition_lag'), [], 'a share member knows no lag')
  assert.deepEqual(await samples(registry, 'multilane_committed_offset'), [], 'nothing is committed')
  // A revoked partition's gauges go, counters stay.
  revoke(bus, [0], 'closing')
  assert.deepEqual(await samples(registry, 'multilane_share_locks_held'), [])
  assert.deepEqual(
    await samples(registry, 'multilane_share_records_released_total'),
    one('share_records_released_total', 2),
  )
})
