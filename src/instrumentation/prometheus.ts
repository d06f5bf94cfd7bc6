// Prometheus metrics fed only by the app's events: the processing runtime knows nothing of them.
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { describeValue } from '../describe-value.ts'
import { MultilaneError } from '../errors.ts'
import type { EventName, MultilaneEvents } from './events.ts'

/** What `instrumentPrometheus` listens to: an `App` (anything with its typed `on`/`off`). */
export interface MultilaneEventSource {
  on<K extends EventName>(name: K, listener: (event: MultilaneEvents[K]) => void): unknown
  off<K extends EventName>(name: K, listener: (event: MultilaneEvents[K]) => void): unknown
}

export interface PrometheusOptions {
  /** Where the metrics are registered. Default: a new Registry, not prom-client's global one, so two apps do not collide. */
  registry?: Registry
  /** Prepended to every metric name (may be empty). Default `multilane_`. */
  prefix?: string
  /** Buckets of `handler_duration_seconds`, in seconds, ascending. Default prom-client's (5 ms … 10 s). */
  durationBuckets?: number[]
}

export interface PrometheusInstrumentation {
  /** The registry holding the metrics: serve `await registry.metrics()` with `registry.contentType`. */
  registry: Registry
  /** Stops updating (removes the listeners); the metrics stay registered with their last values. */
  close(): void
}

/** An option of `instrumentPrometheus` is invalid; `option` names it, the message gives the rule. */
export class MetricsOptionsError extends MultilaneError<'INVALID_METRICS_OPTIONS'> {
  readonly option: string

  constructor(option: string, message: string) {
    super('INVALID_METRICS_OPTIONS', `${option}: ${message}`)
    this.option = option
  }
}

const METRIC_NAME_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/**
 * Registers multilane's Prometheus metrics and keeps them up to date from the app's events
 * (call it before `app.start()`, so the first assignment is seen):
 *
 * - `records_consumed_total{consumer_group,topic,partition}`: records handled successfully.
 * - `handler_duration_seconds{consumer_group,topic}`: handler time of the successful attempt (a
 *   batch's records each observe the batch's time). The runtime measures durations only while
 *   someone listens to `consumer.consumed`, which this function does.
 * - `errors_total{type,consumer_group,topic}`: `error.occurred` by type (missing labels are `''`).
 * - `dead_letter_records_total{consumer_group,topic,dead_letter_topic}`.
 * - `commits_total{consumer_group}`; `committed_offset{consumer_group,topic,partition}`.
 * - `partition_lag`, `partition_buffered_records`, `partition_in_flight_records`,
 *   `partition_paused` (0/1) `{consumer_group,topic,partition}`, from `statistics.emitted`.
 * - `assigned_partitions{consumer_group}`.
 * - Share groups, `{consumer_group,topic,partition}`: `share_records_released_total` (given back
 *   to the group: `retries.mode: 'redeliver'`, or dropped unfinished at revocation or shutdown),
 *   `share_records_rejected_total` (never delivered again), `share_lock_renewals_total`,
 *   `share_locks_lost_total` (the record may be processed again), and the gauge
 *   `share_locks_held` (records this member holds locked, against its lock budget). A share
 *   group member knows no lag (the backlog is the group's): it exports no `partition_lag`, and
 *   no `committed_offset` (nothing is committed). Successes count in `records_consumed_total`.
 *
 * A revoked (or lost) partition's gauges are removed, so a partition another member now owns does
 * not report stale lag here; counters keep counting across rebalances.
 *
 * @throws MetricsOptionsError for an invalid option, or a registry that already has one of the metrics.
 */
export function instrumentPrometheus(
  app: MultilaneEventSource,
  options: PrometheusOptions = {},
): PrometheusInstrumentation {
  const { prefix, buckets, registry } = validateOptions(options)
  const name = (suffix: string) => `${prefix}${suffix}`
  const names = [
    'records_consumed_total',
    'handler_duration_seconds',
    'errors_total',
    'dead_letter_records_total',
    'commits_total',
    'committed_offset',
    'partition_lag',
    'partition_buffered_records',
    'partition_in_flight_records',
    'partition_paused',
    'assigned_partitions',
    'share_records_released_total',
    'share_records_rejected_total',
    'share_lock_renewals_total',
    'share_locks_lost_total',
    'share_locks_held',
  ].map(name)
  // Checked up front so a collision registers nothing (prom-client would fail half-way through).
  const taken = names.find((n) => registry.getSingleMetric(n) !== undefined)
  if (taken !== undefined) {
    throw new MetricsOptionsError(
      'registry',
      `already has a metric named "${taken}"; pass another registry or prefix`,
    )
  }

  const registers = [registry]
  const partitionLabels = ['consumer_group', 'topic', 'partition'] as const
  const consumed = new Counter({
    name: name('records_consumed_total'),
    help: 'Records handled successfully.',
    labelNames: partitionLabels,
    registers,
  })
  const duration = new Histogram({
    name: name('handler_duration_seconds'),
    help: 'Handler time of the successful attempt, in seconds.',
    labelNames: ['consumer_group', 'topic'] as const,
    ...(buckets ? { buckets } : {}),
    registers,
  })
  const errors = new Counter({
    name: name('errors_total'),
    help: 'Errors reported by error.occurred, by type.',
    labelNames: ['type', 'consumer_group', 'topic'] as const,
    registers,
  })
  const deadLettered = new Counter({
    name: name('dead_letter_records_total'),
    help: 'Records produced to a dead letter topic.',
    labelNames: ['consumer_group', 'topic', 'dead_letter_topic'] as const,
    registers,
  })
  const commits = new Counter({
    name: name('commits_total'),
    help: 'Successful offset commits.',
    labelNames: ['consumer_group'] as const,
    registers,
  })
  const committed = new Gauge({
    name: name('committed_offset'),
    help: 'Last offset committed for an assigned partition.',
    labelNames: partitionLabels,
    registers,
  })
  const lag = new Gauge({
    name: name('partition_lag'),
    help: 'Records between the consumer position and the last high watermark seen.',
    labelNames: partitionLabels,
    registers,
  })
  const buffered = new Gauge({
    name: name('partition_buffered_records'),
    help: 'Records fetched and waiting in the buffer.',
    labelNames: partitionLabels,
    registers,
  })
  const inFlight = new Gauge({
    name: name('partition_in_flight_records'),
    help: 'Records taken and not finished.',
    labelNames: partitionLabels,
    registers,
  })
  const paused = new Gauge({
    name: name('partition_paused'),
    help: '1 while fetching of the partition is paused.',
    labelNames: partitionLabels,
    registers,
  })
  const assigned = new Gauge({
    name: name('assigned_partitions'),
    help: 'Partitions assigned to this member.',
    labelNames: ['consumer_group'] as const,
    registers,
  })
  const released = new Counter({
    name: name('share_records_released_total'),
    help: 'Share group records released: any member may get them again, with a higher delivery count.',
    labelNames: partitionLabels,
    registers,
  })
  const rejected = new Counter({
    name: name('share_records_rejected_total'),
    help: 'Share group records rejected: never delivered again (archived, or to the broker dead letter topic).',
    labelNames: partitionLabels,
    registers,
  })
  const renewals = new Counter({
    name: name('share_lock_renewals_total'),
    help: 'Acquisition locks of share group records renewed while they were processed.',
    labelNames: partitionLabels,
    registers,
  })
  const locksLost = new Counter({
    name: name('share_locks_lost_total'),
    help: 'Acquisition locks of share group records lost while they were processed (they may be processed again).',
    labelNames: partitionLabels,
    registers,
  })
  const locksHeld = new Gauge({
    name: name('share_locks_held'),
    help: 'Share group records this member holds locked (buffered, processing, acknowledgement in flight).',
    labelNames: partitionLabels,
    registers,
  })
  const partitionGauges = [committed, lag, buffered, inFlight, paused, locksHeld]

  // Per group: partitions assigned, and those revoked since (a statistics tick or commit racing a
  // revocation must not bring their series back).
  const owned = new Map<string, Set<string>>()
  const revoked = new Map<string, Set<string>>()
  const setOf = (map: Map<string, Set<string>>, group: string) => {
    let set = map.get(group)
    if (!set) {
      set = new Set()
      map.set(group, set)
    }
    return set
  }
  const isRevoked = (group: string, topic: string, partition: number) =>
    revoked.get(group)?.has(partitionKey(topic, partition)) === true
  const labelsOf = (group: string, topic: string, partition: number) => ({
    consumer_group: group,
    topic,
    partition: String(partition),
  })

  const listeners: { [K in EventName]?: (event: MultilaneEvents[K]) => void } = {
    'consumer.consumed': (e) => {
      consumed.inc(labelsOf(e.consumerGroup, e.topic, e.partition))
      duration.observe({ consumer_group: e.consumerGroup, topic: e.topic }, e.durationMs / 1000)
    },
    'error.occurred': (e) => {
      errors.inc({ type: e.type, consumer_group: e.consumerGroup ?? '', topic: e.topic ?? '' })
    },
    'dead_letter_queue.dispatched': (e) => {
      deadLettered.inc({
        consumer_group: e.consumerGroup,
        topic: e.topic,
        dead_letter_topic: e.deadLetterTopic,
      })
    },
    'offsets.committed': (e) => {
      commits.inc({ consumer_group: e.consumerGroup })
      for (const o of e.offsets) {
        if (isRevoked(e.consumerGroup, o.topic, o.partition)) continue
        committed.set(labelsOf(e.consumerGroup, o.topic, o.partition), o.offset)
      }
    },
    'statistics.emitted': (e) => {
      for (const p of e.partitions) {
        if (isRevoked(e.consumerGroup, p.topic, p.partition)) continue
        const labels = labelsOf(e.consumerGroup, p.topic, p.partition)
        // -1: not known to this member (a share group).
        if (p.lag >= 0) lag.set(labels, p.lag)
        if (p.locks !== undefined) locksHeld.set(labels, p.locks)
        buffered.set(labels, p.buffered)
        inFlight.set(labels, p.inFlight)
        paused.set(labels, p.paused ? 1 : 0)
        // The offset committed before this member owned the partition counts too (-1: none yet).
        if (p.committed >= 0) committed.set(labels, p.committed)
      }
    },
    'share.released': (e) => released.inc(labelsOf(e.consumerGroup, e.topic, e.partition)),
    'share.rejected': (e) => rejected.inc(labelsOf(e.consumerGroup, e.topic, e.partition)),
    'share.lock_renewed': (e) => renewals.inc(labelsOf(e.consumerGroup, e.topic, e.partition)),
    'share.lock_lost': (e) => locksLost.inc(labelsOf(e.consumerGroup, e.topic, e.partition)),
    'partitions.assigned': (e) => {
      const mine = setOf(owned, e.consumerGroup)
      const gone = revoked.get(e.consumerGroup)
      for (const p of e.partitions) {
        const key = partitionKey(p.topic, p.partition)
        mine.add(key)
        gone?.delete(key)
      }
      assigned.set({ consumer_group: e.consumerGroup }, mine.size)
    },
    'partitions.revoked': (e) => {
      const mine = setOf(owned, e.consumerGroup)
      const gone = setOf(revoked, e.consumerGroup)
      for (const p of e.partitions) {
        const key = partitionKey(p.topic, p.partition)
        mine.delete(key)
        gone.add(key)
        const labels = labelsOf(e.consumerGroup, p.topic, p.partition)
        for (const gauge of partitionGauges) gauge.remove(labels)
      }
      assigned.set({ consumer_group: e.consumerGroup }, mine.size)
    },
  }

  const entries = Object.entries(listeners) as Array<[EventName, (event: MultilaneEvents[EventName]) => void]>
  for (const [event, listener] of entries) app.on(event, listener)
  let closed = false
  return {
    registry,
    close() {
      if (closed) return
      closed = true
      for (const [event, listener] of entries) app.off(event, listener)
    },
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

function validateOptions(options: PrometheusOptions): {
  prefix: string
  buckets: number[] | undefined
  registry: Registry
} {
  if (options === null || typeof options !== 'object') {
    throw new MetricsOptionsError('options', `must be an object (got ${describeValue(options)})`)
  }
  const prefix = options.prefix ?? 'multilane_'
  // Empty is allowed: the names themselves are valid metric names.
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME_PREFIX.test(prefix))) {
    throw new MetricsOptionsError(
      'prefix',
      `must match the Prometheus metric name rule [a-zA-Z_:][a-zA-Z0-9_:]* (got ${describeValue(prefix)})`,
    )
  }
  const buckets = options.durationBuckets
  if (buckets !== undefined) {
    const rule = 'must be a non-empty array of finite positive numbers in strictly ascending order'
    if (!Array.isArray(buckets) || buckets.length === 0) {
      throw new MetricsOptionsError('durationBuckets', `${rule} (got ${describeValue(buckets)})`)
    }
    buckets.forEach((b, i) => {
      const previous = i > 0 ? (buckets[i - 1] as number) : 0
      if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0 || b <= previous) {
        throw new MetricsOptionsError(`durationBuckets[${i}]`, `${rule} (got ${describeValue(b)})`)
      }
    })
  }
  const registry = options.registry ?? new Registry()
  if (
    registry === null ||
    typeof registry !== 'object' ||
    typeof registry.getSingleMetric !== 'function' ||
    typeof registry.registerMetric !== 'function'
  ) {
    throw new MetricsOptionsError(
      'registry',
      `must be a prom-client Registry (got ${describeValue(registry)})`,
    )
  }
  return { prefix, buckets: buckets ? [...buckets] : undefined, registry }
}
