import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { pino } from 'pino'
import {
  AppBuilder,
  type ConsumerGroupBuilder,
  type ShareGroupBuilder,
} from '../../../src/app/app-builder.ts'
import { ConfigurationError } from '../../../src/app/configuration-error.ts'
import type { AppLogger, AppOptions } from '../../../src/app/options/app.ts'
import { defaultPartitioner } from '../../../src/app/options/virtual-partitions.ts'
import { describeValue } from '../../../src/describe-value.ts'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { json, raw } from '../../../src/processing/deserializers.ts'
import { ConsumedRecord } from '../../../src/processing/record.ts'
import { defaultLaneReducer, fnv1a32 } from '../../../src/processing/routing/reducers.ts'

const handler = async () => {}
const SECRET = 'S3cr3t-pa55w0rd'

/** An app with one group `analytics` whose `configure` runs as given. */
function group(configure: (g: ConsumerGroupBuilder) => void, app: AppOptions = {}): AppBuilder {
  return new AppBuilder(app).consumerGroup('analytics', configure)
}

/** An app whose only topic `user_events` has these (deliberately loosely typed) options. */
function topic(options: Record<string, unknown>): AppBuilder {
  return group((g) => g.topic('user_events', options as never))
}

const G = 'consumerGroup "analytics"'
const T = `${G} › topic "user_events"`

/** An app with one share group `jobs` whose `configure` runs as given. */
function share(configure: (g: ShareGroupBuilder) => void): AppBuilder {
  return new AppBuilder({}).shareGroup('jobs', configure)
}

/** An app whose only share topic `tasks` has these (deliberately loosely typed) options. */
function shareTopic(options: Record<string, unknown>): AppBuilder {
  return share((g) => g.topic('tasks', options as never))
}

const SG = 'shareGroup "jobs"'
const ST = `${SG} › topic "tasks"`

interface InvalidCase {
  name: string
  define: () => unknown
  /** Fragments the message must contain: location (group, topic), field, rule, received value. */
  expect: string[]
}

const INVALID: InvalidCase[] = [
  // processing
  {
    name: 'capacity 0',
    define: () => topic({ handler, processing: { capacity: 0 } }),
    expect: [`${T} › processing.capacity: must be an integer ≥ 1 (got 0)`],
  },
  {
    name: 'fractional capacity',
    define: () => topic({ handler, processing: { capacity: 1.5 } }),
    expect: [`${T} › processing.capacity: must be an integer ≥ 1 (got 1.5)`],
  },
  {
    name: 'unknown style',
    define: () => topic({ handler, processing: { style: 'fast' } }),
    expect: [`${T} › processing.style: must be one of "blocking", "continuous" (got "fast")`],
  },
  {
    name: 'unknown ordering',
    define: () => topic({ handler, processing: { ordering: 'random' } }),
    expect: [`${T} › processing.ordering: must be one of "partition", "key", "unordered" (got "random")`],
  },
  {
    name: 'maxPollRecords 0',
    define: () => topic({ handler, processing: { maxPollRecords: 0 } }),
    expect: [`${T} › processing.maxPollRecords: must be an integer ≥ 1 (got 0)`],
  },
  {
    name: 'commitIntervalMs below 10',
    define: () => topic({ handler, processing: { commitIntervalMs: 5 } }),
    expect: [`${T} › processing.commitIntervalMs: must be an integer ≥ 10 (got 5)`],
  },
  {
    name: 'commitAfterRecords below 10',
    define: () => topic({ handler, processing: { commitAfterRecords: 1 } }),
    expect: [`${T} › processing.commitAfterRecords: must be an integer ≥ 10 (got 1)`],
  },
  {
    name: 'commitAfterRecords not an integer',
    define: () => topic({ handler, processing: { commitAfterRecords: 12.5 } }),
    expect: [`${T} › processing.commitAfterRecords: must be an integer ≥ 10 (got 12.5)`],
  },
  {
    name: 'misspelled processing option',
    define: () => topic({ handler, processing: { capacty: 5 } }),
    expect: [`${T} › processing.capacty: unknown option; did you mean "capacity"?`],
  },
  {
    name: 'processing not an object',
    define: () => topic({ handler, processing: 'blocking' }),
    expect: [`${T} › processing: must be an object (got "blocking")`],
  },
  // topic
  {
    name: 'unknown topic option',
    define: () => topic({ handler, concurrency: 5 }),
    expect: [`${T} › concurrency: unknown option (known: handler, batchHandler, deserializer,`],
  },
  {
    name: 'both handlers',
    define: () => topic({ handler, batchHandler: handler }),
    expect: [`${T}: exactly one of handler and batchHandler is required (got both)`],
  },
  {
    name: 'no handler',
    define: () => topic({ processing: { capacity: 5 } }),
    expect: [`${T}: exactly one of handler and batchHandler is required (got neither)`],
  },
  {
    name: 'handler not a function',
    define: () => topic({ handler: 'process' }),
    expect: [`${T} › handler: must be a function (got "process")`],
  },
  {
    name: 'deserializer not a deserializer',
    define: () => topic({ handler, deserializer: JSON.parse }),
    expect: [
      `${T} › deserializer: must be a deserializer: an object with name and deserialize()`,
      '(got [function])',
    ],
  },
  {
    name: 'invalid topic name',
    define: () => group((g) => g.topic('user events', { handler })),
    expect: [
      `${G} › topic "user events" › name: must be a Kafka topic name: 1–249 characters`,
      '(got "user events")',
    ],
  },
  {
    name: 'topic name ".."',
    define: () => group((g) => g.topic('..', { handler })),
    expect: [`${G} › topic ".." › name: must be a Kafka topic name`, 'not "." or ".."'],
  },
  {
    name: 'topic name too long (shown cut)',
    define: () => group((g) => g.topic('t'.repeat(250), { handler })),
    expect: [`› name: must be a Kafka topic name`, `(got "${'t'.repeat(40)}…")`],
  },
  {
    name: 'name given as an option',
    define: () => topic({ handler, name: 'other' }),
    expect: [`${T} › name: unknown option: the name is the first argument of g.topic()`],
  },
  {
    name: 'manualOffsets not a boolean',
    define: () => topic({ handler, manualOffsets: 'yes' }),
    expect: [`${T} › manualOffsets: must be true or false (got "yes")`],
  },
  // virtual partitions
  {
    name: 'virtual partitions without key ordering',
    define: () => topic({ handler, virtualPartitions: { maxPartitions: 8 } }),
    expect: [
      `${T} › virtualPartitions: apply only to key ordering: set processing.ordering: 'key'`,
      '"partition"',
    ],
  },
  {
    name: 'maxPartitions 0',
    define: () =>
      topic({ handler, processing: { ordering: 'key' }, virtualPartitions: { maxPartitions: 0 } }),
    expect: [`${T} › virtualPartitions.maxPartitions: must be an integer ≥ 1 (got 0)`],
  },
  {
    name: 'reducer not a function',
    define: () => topic({ handler, processing: { ordering: 'key' }, virtualPartitions: { reducer: 'fnv' } }),
    expect: [`${T} › virtualPartitions.reducer: must be a function (got "fnv")`],
  },
  {
    name: 'partitioner not a function',
    define: () =>
      topic({ handler, processing: { ordering: 'key' }, virtualPartitions: { partitioner: null } }),
    expect: [`${T} › virtualPartitions.partitioner: must be a function (got null)`],
  },
  {
    name: 'unknown virtual partitions option',
    define: () =>
      topic({ handler, processing: { ordering: 'key' }, virtualPartitions: { max_partitions: 4 } }),
    expect: [`${T} › virtualPartitions.max_partitions: unknown option; did you mean "maxPartitions"?`],
  },
  // retries
  {
    name: 'negative maxRetries',
    define: () => topic({ handler, retries: { maxRetries: -1 } }),
    expect: [`${T} › retries.maxRetries: must be an integer ≥ 0 (got -1)`],
  },
  {
    name: 'backoff maxMs below initialMs',
    define: () => topic({ handler, retries: { backoff: { initialMs: 5000, maxMs: 1000 } } }),
    expect: [`${T} › retries.backoff.maxMs: must be ≥ retries.backoff.initialMs (5000) (got 1000)`],
  },
  {
    name: 'negative initialMs',
    define: () => topic({ handler, retries: { backoff: { initialMs: -1 } } }),
    expect: [`${T} › retries.backoff.initialMs: must be an integer ≥ 0 (got -1)`],
  },
  {
    name: 'exponential not a boolean',
    define: () => topic({ handler, retries: { backoff: { exponential: 2 } } }),
    expect: [`${T} › retries.backoff.exponential: must be true or false (got 2)`],
  },
  {
    name: 'unknown backoff option',
    define: () => topic({ handler, retries: { backoff: { max: 10 } } }),
    expect: [`${T} › retries.backoff.max: unknown option; did you mean "maxMs"?`],
  },
  // dead letter queue
  {
    name: 'dead letter queue without topic',
    define: () => topic({ handler, deadLetterQueue: { maxRetries: 2 } }),
    expect: [`${T} › deadLetterQueue.topic: must be a Kafka topic name`, '(missing)'],
  },
  {
    name: 'dead letter queue topic with a space',
    define: () => topic({ handler, deadLetterQueue: { topic: 'user events dlq' } }),
    expect: [`${T} › deadLetterQueue.topic: must be a Kafka topic name`, '(got "user events dlq")'],
  },
  {
    name: 'dead letter queue is the topic itself',
    define: () => topic({ handler, deadLetterQueue: { topic: 'user_events' } }),
    expect: [`${T} › deadLetterQueue.topic: must differ from the consumed topic`, '(got "user_events")'],
  },
  {
    name: 'dead letter queue and retries disagree on maxRetries',
    define: () =>
      topic({ handler, retries: { maxRetries: 2 }, deadLetterQueue: { topic: 'dlq', maxRetries: 5 } }),
    expect: [
      `${T} › deadLetterQueue.maxRetries: conflicts with retries.maxRetries (2)`,
      'set only one (got 5)',
    ],
  },
  {
    name: 'independent not a boolean',
    define: () => topic({ handler, deadLetterQueue: { topic: 'dlq', independent: 1 } }),
    expect: [`${T} › deadLetterQueue.independent: must be true or false (got 1)`],
  },
  {
    name: 'unknown dead letter queue option',
    define: () => topic({ handler, deadLetterQueue: { topic: 'dlq', transactional: true } }),
    expect: [`${T} › deadLetterQueue.transactional: unknown option (known: topic, maxRetries, independent)`],
  },
  // group
  {
    name: 'topics with different styles',
    define: () =>
      group((g) => {
        g.topic('clicks', { handler })
        g.topic('orders', { handler, processing: { style: 'blocking' } })
      }),
    expect: [
      `${G} › topic "orders" › processing.style: must be "continuous" like topic "clicks"`,
      'one processing loop per member',
      '(got "blocking")',
    ],
  },
  {
    name: 'topic defined twice',
    define: () =>
      group((g) => {
        g.topic('user_events', { handler })
        g.topic('user_events', { handler })
      }),
    expect: [`${T}: is defined twice in this group`],
  },
  {
    name: 'group without topics',
    define: () => group(() => {}),
    expect: [`${G}: must define at least one topic`],
  },
  {
    name: 'group defined twice',
    define: () =>
      new AppBuilder({})
        .consumerGroup('analytics', (g) => g.topic('a', { handler }))
        .consumerGroup('analytics', (g) => g.topic('b', { handler })),
    expect: [`${G}: is defined twice; define each consumer group once`],
  },
  {
    name: 'empty group name',
    define: () => new AppBuilder({}).consumerGroup('', (g) => g.topic('a', { handler })),
    expect: ['consumerGroup "" › name: must be a non-empty string of at most 249 characters', '(got "")'],
  },
  {
    name: 'group name with a control character',
    define: () => new AppBuilder({}).consumerGroup('ana\nlytics', (g) => g.topic('a', { handler })),
    expect: ['consumerGroup "ana\\nlytics" › name: ', 'without control characters'],
  },
  {
    name: 'group name of 250 characters',
    define: () => new AppBuilder({}).consumerGroup('g'.repeat(250), (g) => g.topic('a', { handler })),
    expect: ['› name: must be a non-empty string of at most 249 characters'],
  },
  {
    name: 'async group callback',
    define: () => new AppBuilder({}).consumerGroup('analytics', async (g) => void g.topic('a', { handler })),
    expect: [`${G}: the callback must define the group synchronously (it returned a promise)`],
  },
  {
    name: 'unknown autoOffsetReset',
    define: () =>
      group((g) => {
        g.options({ autoOffsetReset: 'newest' as never })
        g.topic('a', { handler })
      }),
    expect: [`${G} › options.autoOffsetReset: must be one of "earliest", "latest" (got "newest")`],
  },
  {
    name: 'unknown isolationLevel',
    define: () =>
      group((g) => {
        g.options({ isolationLevel: 'committed' as never })
        g.topic('a', { handler })
      }),
    expect: [`${G} › options.isolationLevel: must be one of "read_uncommitted", "read_committed"`],
  },
  {
    name: 'empty groupInstanceId',
    define: () =>
      group((g) => {
        g.options({ groupInstanceId: '' })
        g.topic('a', { handler })
      }),
    expect: [`${G} › options.groupInstanceId: must be a non-empty string (got "")`],
  },
  {
    name: 'revokeTimeoutMs not below rebalanceTimeoutMs',
    define: () =>
      group((g) => {
        g.options({ rebalanceTimeoutMs: 20_000 })
        g.topic('a', { handler })
      }),
    expect: [`${G} › options.revokeTimeoutMs: must be < rebalanceTimeoutMs (20000)`, '(got 30000)'],
  },
  {
    name: 'unknown group option',
    define: () =>
      group((g) => {
        g.options({ fetchMaxWaitMs: 10 } as never)
        g.topic('a', { handler })
      }),
    expect: [`${G} › options.fetchMaxWaitMs: unknown option (known: autoOffsetReset,`],
  },
  {
    name: 'unknown groupProtocol',
    define: () =>
      group((g) => {
        g.options({ groupProtocol: 'kip848' } as never)
        g.topic('a', { handler })
      }),
    expect: [`${G} › options.groupProtocol:`, 'auto', 'consumer', 'classic'],
  },
  {
    name: 'unknown classic assignor',
    define: () =>
      group((g) => {
        g.options({ assignors: ['sticky'] } as never)
        g.topic('a', { handler })
      }),
    expect: [
      `${G} › options.assignors[0]: must be one of "cooperative-sticky", "range", "roundrobin" (got "sticky")`,
    ],
  },
  {
    name: 'heartbeatIntervalMs not below sessionTimeoutMs',
    define: () =>
      group((g) => {
        g.options({ sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 })
        g.topic('a', { handler })
      }),
    expect: [`${G} › options.heartbeatIntervalMs: must be < sessionTimeoutMs (6000)`, '(got 6000)'],
  },
  {
    name: 'options() called twice',
    define: () =>
      group((g) => {
        g.options({})
        g.options({})
      }),
    expect: [`${G} › options: g.options() may be called only once per group`],
  },
  {
    name: 'topic() after the callback returned',
    define: () => {
      let saved: ConsumerGroupBuilder | undefined
      group((g) => {
        saved = g
        g.topic('a', { handler })
      })
      saved?.topic('b', { handler })
    },
    expect: [`${G}: g.topic() was called after the consumerGroup() callback returned`],
  },
  // parallel segments
  {
    name: 'segment count 0',
    define: () => group((g) => g.parallelSegments({ count: 0 }).topic('t', { handler })),
    expect: [`${G} › parallelSegments.count: must be an integer ≥ 1 (got 0)`],
  },
  {
    name: 'fractional segment count',
    define: () =>
      group((g) => g.parallelSegments({ count: 2.5, partitioner: (r) => r.key }).topic('t', { handler })),
    expect: [`${G} › parallelSegments.count: must be an integer ≥ 1 (got 2.5)`],
  },
  {
    name: 'segments without a partitioner',
    define: () => group((g) => g.parallelSegments({ count: 3 }).topic('t', { handler })),
    expect: [`${G} › parallelSegments.partitioner: is required with count 3`],
  },
  {
    name: 'an async virtual partitions partitioner',
    define: () =>
      topic({
        handler,
        processing: { ordering: 'key' },
        virtualPartitions: { partitioner: async () => 'k' },
      }),
    expect: [
      `${T} › virtualPartitions.partitioner: must return the ordering key itself, not a Promise (it is an async function)`,
    ],
  },
  {
    name: 'an async segment partitioner',
    define: () =>
      group((g) => g.parallelSegments({ count: 2, partitioner: async (r) => r.key }).topic('t', { handler })),
    expect: [
      `${G} › parallelSegments.partitioner: must return the routing key itself, not a Promise (it is an async function)`,
    ],
  },
  {
    name: 'empty merge key',
    define: () =>
      group((g) =>
        g.parallelSegments({ count: 2, partitioner: (r) => r.key, mergeKey: '' }).topic('t', { handler }),
      ),
    expect: [`${G} › parallelSegments.mergeKey: must be a non-empty string (got "")`],
  },
  {
    name: 'reducer not a function',
    define: () =>
      group((g) =>
        g
          .parallelSegments({ count: 2, partitioner: (r) => r.key, reducer: 3 as never })
          .topic('t', { handler }),
      ),
    expect: [`${G} › parallelSegments.reducer: must be a function (got 3)`],
  },
  {
    name: 'unknown onMismatch',
    define: () =>
      group((g) =>
        g
          .parallelSegments({ count: 2, partitioner: (r) => r.key, onMismatch: 'ignore' as never })
          .topic('t', { handler }),
      ),
    expect: [`${G} › parallelSegments.onMismatch: must be one of "refuse", "warn" (got "ignore")`],
  },
  {
    name: 'misspelled segments option',
    define: () =>
      group((g) =>
        g
          .parallelSegments({ count: 2, partitioner: () => 1, mergekey: '-' } as never)
          .topic('t', { handler }),
      ),
    expect: [`${G} › parallelSegments.mergekey: unknown option; did you mean "mergeKey"?`],
  },
  {
    name: 'parallelSegments called twice',
    define: () =>
      group((g) => {
        g.parallelSegments({ count: 2, partitioner: (r) => r.key })
        g.parallelSegments({ count: 3, partitioner: (r) => r.key })
      }),
    expect: [`${G} › parallelSegments: g.parallelSegments() may be called only once per group`],
  },
  {
    name: 'a segment group named like another group',
    define: () =>
      new AppBuilder({})
        .consumerGroup('analytics-parallel-1', (g) => g.topic('t', { handler }))
        .consumerGroup('analytics', (g) =>
          g.parallelSegments({ count: 2, partitioner: (r) => r.key }).topic('t', { handler }),
        ),
    expect: [
      `${G}: runs as Kafka group "analytics-parallel-1", which consumerGroup "analytics-parallel-1" also runs as`,
    ],
  },
  // share groups
  {
    name: 'manualOffsets on a share topic',
    define: () => shareTopic({ handler, manualOffsets: true }),
    expect: [
      `${ST} › manualOffsets: applies to consumer groups only: a share group acknowledges each record when its handler returns`,
      '(got true)',
    ],
  },
  {
    name: "ordering 'partition' on a share topic",
    define: () => shareTopic({ handler, processing: { ordering: 'partition' } }),
    expect: [
      `${ST} › processing.ordering: 'partition' does not apply to share groups: a partition's records go to many members at once; use 'key'`,
      '(got "partition")',
    ],
  },
  {
    name: 'commitAfterRecords on a share topic',
    define: () => shareTopic({ handler, processing: { commitAfterRecords: 200 } }),
    expect: [
      `${ST} › processing.commitAfterRecords: applies to consumer groups only: a share group acknowledges each record as it finishes`,
    ],
  },
  {
    name: 'unknown ordering on a share topic',
    define: () => shareTopic({ handler, processing: { ordering: 'random' } }),
    expect: [`${ST} › processing.ordering: must be one of "partition", "key", "unordered" (got "random")`],
  },
  {
    name: 'retries.mode on a consumer group topic',
    define: () => topic({ handler, retries: { mode: 'redeliver' } }),
    expect: [
      `${T} › retries.mode: applies to share groups only: a consumer group retries a record in place`,
      '(got "redeliver")',
    ],
  },
  {
    name: 'unknown retries.mode',
    define: () => shareTopic({ handler, retries: { mode: 'later' } }),
    expect: [`${ST} › retries.mode: must be one of "local", "redeliver" (got "later")`],
  },
  {
    name: 'unknown acquireMode',
    define: () =>
      share((g) => {
        g.options({ acquireMode: 'fast' as never })
        g.topic('tasks', { handler })
      }),
    expect: [`${SG} › options.acquireMode: must be one of "batch_optimized", "record_limit" (got "fast")`],
  },
  {
    name: 'maxRecordLocks 0',
    define: () =>
      share((g) => {
        g.options({ maxRecordLocks: 0 })
        g.topic('tasks', { handler })
      }),
    expect: [`${SG} › options.maxRecordLocks: must be an integer ≥ 1 (got 0)`],
  },
  {
    name: 'consumer group option on a share group',
    define: () =>
      share((g) => {
        g.options({ isolationLevel: 'read_committed' } as never)
        g.topic('tasks', { handler })
      }),
    expect: [
      `${SG} › options.isolationLevel: unknown option (known: autoOffsetReset, acquireMode, maxRecordLocks)`,
    ],
  },
  {
    name: 'share group without topics',
    define: () => share(() => {}),
    expect: [`${SG}: must define at least one topic`],
  },
  {
    name: 'a share group named like a consumer group',
    define: () =>
      new AppBuilder({})
        .consumerGroup('jobs', (g) => g.topic('tasks', { handler }))
        .shareGroup('jobs', (g) => g.topic('tasks', { handler })),
    expect: [
      `${SG}: is also defined as consumerGroup "jobs": a Kafka group id is either a consumer group or a share group; rename one`,
    ],
  },
  {
    name: 'a consumer group named like a share group',
    define: () =>
      new AppBuilder({})
        .shareGroup('analytics', (g) => g.topic('tasks', { handler }))
        .consumerGroup('analytics', (g) => g.topic('tasks', { handler })),
    expect: [`${G}: is also defined as shareGroup "analytics"`],
  },
  {
    name: 'a share group defined twice',
    define: () =>
      new AppBuilder({})
        .shareGroup('jobs', (g) => g.topic('a', { handler }))
        .shareGroup('jobs', (g) => g.topic('b', { handler })),
    expect: [`${SG}: is defined twice; define each share group once`],
  },
  {
    name: 'a segment group named like a share group',
    define: () =>
      new AppBuilder({})
        .shareGroup('analytics-parallel-0', (g) => g.topic('t', { handler }))
        .consumerGroup('analytics', (g) =>
          g.parallelSegments({ count: 2, partitioner: (r) => r.key }).topic('t', { handler }),
        ),
    expect: [
      `${G}: runs as Kafka group "analytics-parallel-0", which shareGroup "analytics-parallel-0" also runs as`,
    ],
  },
  // app and kafka
  {
    name: 'unknown app option',
    define: () => new AppBuilder({ kafak: { clientId: 'x' } } as never),
    expect: ['app › kafak: unknown option; did you mean "kafka"?'],
  },
  {
    name: 'tracing.enabled that is not true, false or auto',
    // @ts-expect-error: a string other than 'auto'
    define: () => new AppBuilder({ tracing: { enabled: 'yes' } }),
    expect: ['app › tracing.enabled: must be true, false or \'auto\' (got "yes")'],
  },
  {
    name: 'negative shutdownTimeoutMs',
    define: () => new AppBuilder({ shutdownTimeoutMs: -1 }),
    expect: ['app › shutdownTimeoutMs: must be an integer ≥ 0 (got -1)'],
  },
  {
    name: 'fractional statisticsIntervalMs',
    define: () => new AppBuilder({ statisticsIntervalMs: 0.5 }),
    expect: ['app › statisticsIntervalMs: must be an integer ≥ 0 (got 0.5)'],
  },
  {
    name: 'logger without child()',
    define: () => new AppBuilder({ logger: { info() {}, warn() {}, error() {}, debug() {} } as never }),
    expect: [
      "app › logger: must be false, 'pretty' or a logger with info, warn, error, debug, child functions",
      '(got {…})',
    ],
  },
  {
    name: 'bootstrap without a port',
    define: () => new AppBuilder({ kafka: { bootstrap: 'localhost' } }),
    expect: ['app › kafka.bootstrap: "localhost" is not host:port (port 1-65535)'],
  },
  {
    name: 'bootstrap entry with port 0',
    define: () => new AppBuilder({ kafka: { bootstrap: ['a:9092', 'b:0'] } }),
    expect: ['app › kafka.bootstrap: "b:0" is not host:port (port 1-65535)'],
  },
  {
    name: 'empty bootstrap list',
    define: () => new AppBuilder({ kafka: { bootstrap: [] } }),
    expect: ['app › kafka.bootstrap: expected at least one host:port, got nothing'],
  },
  {
    name: 'bootstrap of the wrong type',
    define: () => new AppBuilder({ kafka: { bootstrap: 9092 as never } }),
    expect: ['app › kafka.bootstrap: must be a "host:port[,host:port…]" string or an array', '(got 9092)'],
  },
  {
    name: 'empty clientId',
    define: () => new AppBuilder({ kafka: { clientId: '' } }),
    expect: ['app › kafka.clientId: must be a non-empty string (got "")'],
  },
  {
    name: 'unknown SASL mechanism',
    define: () =>
      new AppBuilder({ kafka: { sasl: { mechanism: 'GSSAPI' as never, username: 'u', password: SECRET } } }),
    expect: [
      'app › kafka.sasl.mechanism: must be one of "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512" (got "GSSAPI")',
    ],
  },
  {
    name: 'tls neither boolean nor object',
    define: () => new AppBuilder({ kafka: { tls: 'on' as never } }),
    expect: ['app › kafka.tls: must be true, false or Node TLS options (an object) (got "on")'],
  },
  {
    name: 'requestTimeoutMs 0',
    define: () => new AppBuilder({ kafka: { requestTimeoutMs: 0 } }),
    expect: ['app › kafka.requestTimeoutMs: must be an integer ≥ 1 (got 0)'],
  },
  {
    name: 'unknown kafka option',
    define: () => new AppBuilder({ kafka: { brokers: ['a:1'] } as never }),
    expect: ['app › kafka.brokers: unknown option (known: bootstrap, clientId, sasl, tls,'],
  },
]

function rejects(define: () => unknown): ConfigurationError {
  try {
    define()
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, `expected a ConfigurationError, got ${error}`)
    assert.equal(error.code, 'INVALID_CONFIGURATION')
    return error
  }
  assert.fail('expected a ConfigurationError, but the definition was accepted')
}

describe('option contracts: invalid configurations', () => {
  let savedEnv: string | undefined
  beforeEach(() => {
    savedEnv = process.env.KAFKA_BOOTSTRAP_SERVERS
    delete process.env.KAFKA_BOOTSTRAP_SERVERS
  })
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.KAFKA_BOOTSTRAP_SERVERS
    else process.env.KAFKA_BOOTSTRAP_SERVERS = savedEnv
  })

  it('has a case for every rule', () => assert.ok(INVALID.length >= 20))

  for (const c of INVALID) {
    it(`rejects: ${c.name}`, () => {
      const error = rejects(c.define)
      for (const fragment of c.expect)
        assert.ok(error.message.includes(fragment), `missing ${fragment}\nin: ${error.message}`)
      // One issue, one line: each case breaks exactly one rule.
      assert.equal(error.issues.length, 1, error.message)
      assert.equal(error.message.split('\n').length, 1)
      assert.equal(error.message, `${error.issues[0]?.path}: ${error.issues[0]?.message}`)
    })
  }

  it('lists every issue of a group on its own line', () => {
    const error = rejects(() =>
      group((g) => {
        g.topic('a', { handler, processing: { capacity: 0 } })
        g.topic('b b', { handler })
        g.options({ autoOffsetReset: 'x' as never })
      }),
    )
    assert.deepEqual(error.message.split('\n'), [
      `${G} › topic "a" › processing.capacity: must be an integer ≥ 1 (got 0)`,
      `${G} › topic "b b" › name: must be a Kafka topic name: 1–249 characters of a-z A-Z 0-9 . _ - (and not "." or "..") (got "b b")`,
      `${G} › options.autoOffsetReset: must be one of "earliest", "latest" (got "x")`,
    ])
    assert.deepEqual(
      error.issues.map((i) => i.path),
      [
        `${G} › topic "a" › processing.capacity`,
        `${G} › topic "b b" › name`,
        `${G} › options.autoOffsetReset`,
      ],
    )
  })

  it('never shows the SASL password', () => {
    const sasl = { mechanism: 'PLAIN', username: 'svc', password: SECRET } as const
    const attempts: Array<() => unknown> = [
      () => new AppBuilder({ kafka: { sasl: { ...sasl, mechanism: 'NOPE' } as never } }),
      () => new AppBuilder({ kafka: { sasl: { ...sasl, extra: SECRET } as never } }),
      () => new AppBuilder({ kafka: { sasl: { ...sasl, username: '' } } }),
      () => new AppBuilder({ kafka: { sasl: { ...sasl, password: [SECRET] } as never } }),
      () => new AppBuilder({ kafka: { sasl: `svc:${SECRET}` as never } }),
      () => new AppBuilder({ kafka: { sasl, bootstrap: 'nope' } }),
    ]
    for (const attempt of attempts) {
      const error = rejects(attempt)
      assert.ok(!error.message.includes(SECRET), error.message)
      assert.ok(!JSON.stringify(error.issues).includes(SECRET), error.message)
    }
    const wrongType = rejects(() => new AppBuilder({ kafka: { sasl: { ...sasl, password: 1234 as never } } }))
    assert.equal(wrongType.message, 'app › kafka.sasl.password: must be a non-empty string (got [redacted])')
    // The username is not a secret and helps find the account.
    assert.match(rejects(attempts[2]!).message, /sasl\.username: must be a non-empty string \(got ""\)/)
  })

  it('a bad MULTILANE_KEEP_V8_DEFAULTS fails the definition, naming the variable and the value', () => {
    const saved = process.env.MULTILANE_KEEP_V8_DEFAULTS
    process.env.MULTILANE_KEEP_V8_DEFAULTS = 'yes'
    try {
      const error = rejects(() => new AppBuilder({}))
      assert.match(error.message, /^app: MULTILANE_KEEP_V8_DEFAULTS must be 1 .* or 0 .*, got "yes"$/)
      process.env.MULTILANE_KEEP_V8_DEFAULTS = '1'
      new AppBuilder({})
    } finally {
      if (saved === undefined) delete process.env.MULTILANE_KEEP_V8_DEFAULTS
      else process.env.MULTILANE_KEEP_V8_DEFAULTS = saved
    }
  })

  it('prints received values briefly', () => {
    assert.equal(
      describeValue(() => 1),
      '[function]',
    )
    assert.equal(describeValue('x'.repeat(100)), `"${'x'.repeat(40)}…"`)
    assert.equal(describeValue([1, 'a', null, 4, 5]), '[1, "a", null, … 2 more]')
    assert.equal(describeValue({ password: SECRET }), '{…}')
    assert.equal(describeValue(Buffer.from('x')), '[Buffer]')
  })
})

describe('option contracts: defaults', () => {
  let savedEnv: string | undefined
  beforeEach(() => {
    savedEnv = process.env.KAFKA_BOOTSTRAP_SERVERS
    delete process.env.KAFKA_BOOTSTRAP_SERVERS
  })
  afterEach(() => {
    if (savedEnv === undefined) delete process.env.KAFKA_BOOTSTRAP_SERVERS
    else process.env.KAFKA_BOOTSTRAP_SERVERS = savedEnv
  })

  it('fills every default of a minimal definition', () => {
    const definition = new AppBuilder({})
      .consumerGroup('analytics', (g) => g.topic('user_events', { handler }))
      .definition()
    assert.deepEqual(definition.settings, {
      kafka: { bootstrap: '127.0.0.1:9092', clientId: 'multilane' },
      groupProtocol: 'auto',
      shutdownTimeoutMs: 30_000,
      statisticsIntervalMs: 5000,
      tracing: { enabled: 'auto' },
      health: { stuckAfterMs: 300_000, requireAssignment: true },
    })
    const [group] = definition.consumerGroups
    assert.equal(group?.name, 'analytics')
    assert.deepEqual(group?.settings, {
      autoOffsetReset: 'earliest',
      isolationLevel: 'read_uncommitted',
      rebalanceTimeoutMs: 60_000,
      revokeTimeoutMs: 30_000,
      sessionTimeoutMs: 45_000,
      heartbeatIntervalMs: 3000,
      assignors: ['cooperative-sticky'],
    })
    const [t] = group?.topics ?? []
    assert.ok(t)
    assert.equal(t.name, 'user_events')
    assert.equal(t.handler, handler)
    assert.equal(t.batchHandler, undefined)
    assert.equal(t.deserializer.name, 'raw')
    assert.deepEqual(t.processing, {
      style: 'continuous',
      capacity: 100,
      ordering: 'partition',
      maxPollRecords: 500,
      commitIntervalMs: 1000,
      commitAfterRecords: 100,
    })
    // Consumer groups always retry in place: 'local' is the only mode they have.
    assert.deepEqual(t.retries, {
      maxRetries: 3,
      backoff: { initialMs: 1000, maxMs: 30_000, exponential: true },
      mode: 'local',
    })
    assert.equal(t.virtualPartitions.maxPartitions, 16)
    assert.equal(t.virtualPartitions.reducer, defaultLaneReducer)
    assert.equal(t.virtualPartitions.partitioner, defaultPartitioner)
    assert.equal(t.deadLetterQueue, undefined)
    assert.equal(t.manualOffsets, false)
  })

  it('fills every default of a minimal share group', () => {
    const definition = new AppBuilder({})
      .shareGroup('jobs', (g) => g.topic('tasks', { handler }))
      .definition()
    assert.deepEqual(definition.consumerGroups, [])
    const [group] = definition.shareGroups
    assert.equal(group?.name, 'jobs')
    assert.deepEqual(group?.settings, { acquireMode: 'batch_optimized' })
    const t = group!.topics[0]!
    assert.deepEqual(t.processing, {
      style: 'continuous',
      capacity: 100,
      ordering: 'unordered',
      maxPollRecords: 500,
      commitIntervalMs: 1000,
    })
    assert.deepEqual(t.retries, {
      maxRetries: 3,
      backoff: { initialMs: 1000, maxMs: 30_000, exponential: true },
      mode: 'local',
    })
    assert.equal(t.manualOffsets, false)
  })

  it('keeps what was given and fills the rest', () => {
    const deserializer = json<{ id: number }>()
    const reducer = (v: unknown, n: number) => Number(v) % n
    const definition = new AppBuilder({
      kafka: { bootstrap: ['k1:9092', 'k2:9092'], tls: true },
      logger: false,
    })
      .consumerGroup('orders', (g) => {
        g.options({ autoOffsetReset: 'latest', groupInstanceId: 'host-1' })
        g.topic('orders', {
          deserializer,
          batchHandler: async () => {},
          processing: { style: 'blocking', capacity: 400, ordering: 'key' },
          virtualPartitions: { reducer, maxPartitions: 4 },
          deadLetterQueue: { topic: 'orders.dlq', maxRetries: 5, independent: true },
        })
      })
      .definition()
    assert.deepEqual(definition.settings.kafka, {
      bootstrap: ['k1:9092', 'k2:9092'],
      clientId: 'multilane',
      tls: true,
    })
    const group = definition.consumerGroups[0]!
    assert.equal(group.settings.autoOffsetReset, 'latest')
    assert.equal(group.settings.groupInstanceId, 'host-1')
    const t = group.topics[0]!
    assert.equal(t.deserializer, deserializer)
    assert.equal(t.handler, undefined)
    assert.equal(typeof t.batchHandler, 'function')
    assert.deepEqual(t.processing, {
      style: 'blocking',
      capacity: 400,
      ordering: 'key',
      maxPollRecords: 500,
      commitIntervalMs: 1000,
      commitAfterRecords: 400,
    })
    assert.equal(t.virtualPartitions.reducer, reducer)
    assert.equal(t.virtualPartitions.partitioner, defaultPartitioner)
    assert.equal(t.virtualPartitions.maxPartitions, 4)
    // deadLetterQueue.maxRetries is the effective retries.maxRetries.
    assert.equal(t.retries.maxRetries, 5)
    assert.deepEqual(t.deadLetterQueue, { topic: 'orders.dlq', independent: true })
  })

  it('defaults commitAfterRecords to capacity, at least 100, and keeps a given one', () => {
    const processingOf = (processing: Record<string, unknown>) =>
      topic({ handler, processing }).definition().consumerGroups[0]!.topics[0]!.processing
    assert.equal(processingOf({ capacity: 8 }).commitAfterRecords, 100)
    assert.equal(processingOf({ capacity: 1000 }).commitAfterRecords, 1000)
    assert.equal(processingOf({ capacity: 1000, commitAfterRecords: 50 }).commitAfterRecords, 50)
  })

  it('accepts retries.maxRetries and deadLetterQueue.maxRetries when they agree', () => {
    const t = new AppBuilder({})
      .consumerGroup('g', (g) =>
        g.topic('t', {
          handler,
          retries: { maxRetries: 0 },
          deadLetterQueue: { topic: 't.dlq', maxRetries: 0 },
        }),
      )
      .definition().consumerGroups[0]!.topics[0]!
    assert.equal(t.retries.maxRetries, 0)
  })

  it('raises the default backoff cap to an initialMs above it', () => {
    const t = new AppBuilder({})
      .consumerGroup('g', (g) => g.topic('t', { handler, retries: { backoff: { initialMs: 60_000 } } }))
      .definition().consumerGroups[0]!.topics[0]!
    assert.deepEqual(t.retries.backoff, { initialMs: 60_000, maxMs: 60_000, exponential: true })
  })

  it('defaults bootstrap to $KAFKA_BOOTSTRAP_SERVERS, then 127.0.0.1:9092', () => {
    process.env.KAFKA_BOOTSTRAP_SERVERS = 'broker-1:9092,broker-2:9093'
    assert.equal(new AppBuilder({}).definition().settings.kafka.bootstrap, 'broker-1:9092,broker-2:9093')
    assert.equal(
      new AppBuilder({ kafka: { bootstrap: 'own:1' } }).definition().settings.kafka.bootstrap,
      'own:1',
    )
    process.env.KAFKA_BOOTSTRAP_SERVERS = 'not-an-address'
    assert.equal(
      rejects(() => new AppBuilder({})).message,
      'app › kafka.bootstrap: not set, and $KAFKA_BOOTSTRAP_SERVERS is invalid: "not-an-address" is not host:port (port 1-65535)',
    )
    process.env.KAFKA_BOOTSTRAP_SERVERS = ''
    assert.equal(new AppBuilder({}).definition().settings.kafka.bootstrap, '127.0.0.1:9092')
  })

  it('accepts a pino logger and keeps it apart from the definition', () => {
    const logger: AppLogger = pino({ enabled: false })
    const app = new AppBuilder({ logger })
    assert.equal(app.logger, logger)
    assert.equal('logger' in app.definition().settings, false)
  })

  it('types the payload from the deserializer', () => {
    const seen: Array<number | undefined> = []
    const app = new AppBuilder({}).consumerGroup('g', (g) => {
      g.topic('t', { deserializer: json<{ a: number }>(), handler: async (r) => r.payload?.a })
      g.topic('u', {
        deserializer: json<{ a: number }>(),
        handler: (r) => {
          seen.push(r.payload?.a)
        },
      })
      g.topic('v', {
        handler: (r) => {
          const bytes: Buffer | null = r.payload
          void bytes
        },
      })
    })
    // Compile-time checks only (tsc): never called.
    const typeOnly = (g: ConsumerGroupBuilder) => {
      // @ts-expect-error without a deserializer the payload is Buffer | null
      g.topic('w', { handler: (r: ConsumedRecord<{ a: number }>) => void r })
      // @ts-expect-error a payload field the deserializer does not produce
      g.topic('x', { deserializer: json<{ a: number }>(), handler: (r) => r.payload?.b })
      // @ts-expect-error exactly one of handler and batchHandler
      g.topic('y', { handler, batchHandler: handler })
    }
    void typeOnly
    const topics = app.definition().consumerGroups[0]!.topics
    const u = topics.find((t) => t.name === 'u')!
    const record = new ConsumedRecord(rawRecord({ value: Buffer.from('{"a":7}') }), u.deserializer)
    u.handler?.(record, {} as never)
    assert.deepEqual(seen, [7])
  })
})

function rawRecord(fields: Partial<ConsumerRecord>): ConsumerRecord {
  return {
    topic: 't',
    partition: 0,
    offset: 0,
    timestamp: 0,
    key: null,
    value: null,
    headers: [],
    leaderEpoch: 0,
    ...fields,
  }
}

describe('default lane reducer', () => {
  /** Karafka's default: the sum of the key's bytes, modulo the lane count. */
  const byteSum = (key: string, lanes: number) => [...Buffer.from(key)].reduce((a, b) => a + b, 0) % lanes

  it('is FNV-1a over UTF-8', () => {
    // Reference vectors of FNV-1a 32 (draft-eastlake-fnv).
    assert.equal(fnv1a32(Buffer.from('')), 0x811c9dc5)
    assert.equal(fnv1a32(Buffer.from('a')), 0xe40c292c)
    assert.equal(fnv1a32(Buffer.from('foobar')), 0xbf9cf968)
  })

  it('keeps its mapping (lanes are persisted behaviour: changing them reorders keys across versions)', () => {
    const golden = { 'user-1': 12, 'user-2': 1, 'order-42': 7, ü: 6, A: 4, a: 3 }
    for (const [key, lane] of Object.entries(golden)) assert.equal(defaultLaneReducer(key, 16), lane, key)
    assert.equal(defaultLaneReducer(42, 16), defaultLaneReducer('42', 16))
  })

  it('sends null and undefined to lane 0 and hashes bytes as they are', () => {
    assert.equal(defaultLaneReducer(null, 16), 0)
    assert.equal(defaultLaneReducer(undefined, 16), 0)
    assert.equal(defaultLaneReducer(Buffer.from('user-1'), 16), defaultLaneReducer('user-1', 16))
    // Both are invalid UTF-8 (one U+FFFD as text), yet they stay apart.
    assert.notEqual(defaultLaneReducer(Buffer.from([0xff]), 16), defaultLaneReducer(Buffer.from([0xfe]), 16))
  })

  it('uses the key as text through the default partitioner', () => {
    const keyed = new ConsumedRecord(rawRecord({ key: Buffer.from('user-1') }), raw())
    assert.equal(defaultPartitioner(keyed), 'user-1')
    assert.equal(defaultPartitioner(new ConsumedRecord(rawRecord({}), raw())), null)
  })

  it('spreads 10,000 distinct keys over 16 lanes within ±20% of even', () => {
    const counts = new Array<number>(16).fill(0)
    for (let i = 0; i < 10_000; i++) counts[defaultLaneReducer(`user-${i}`, 16)]! += 1
    for (const count of counts) assert.ok(count >= 500 && count <= 750, `lane counts ${counts.join(',')}`)
  })

  it('does not map keys by their byte sum as Karafka does', () => {
    // Byte sum: "0" (48) and "5" (53) share lane 3 of 5, as does every key pair whose last
    // digits differ by 5. That is structure, not chance: 1000 of 1000 such pairs collide.
    assert.equal(byteSum('0', 5), byteSum('5', 5))
    let sumPairs = 0
    let ourPairs = 0
    for (let i = 0; i < 1000; i++) {
      if (byteSum(`order-${i}0`, 5) === byteSum(`order-${i}5`, 5)) sumPairs++
      if (defaultLaneReducer(`order-${i}0`, 5) === defaultLaneReducer(`order-${i}5`, 5)) ourPairs++
    }
    assert.equal(sumPairs, 1000)
    // A hash collides such pairs by chance only: about 1 in 5.
    assert.ok(ourPairs > 150 && ourPairs < 250, `${ourPairs}`)
    // Honest footnote: "0" and "5" themselves do land together in lane 0 here too — by chance,
    // as 1 in 5 of all pairs do; the mapping of the ten digits differs from the byte sum's.
    assert.equal(defaultLaneReducer('0', 5), defaultLaneReducer('5', 5))
    const digits = [...'0123456789']
    assert.notDeepEqual(
      digits.map((d) => defaultLaneReducer(d, 5)),
      digits.map((d) => byteSum(d, 5)),
    )
    // Anagrams always collide under a byte sum; under the hash only by chance (about 1 in 16).
    let sumAnagrams = 0
    let ourAnagrams = 0
    for (let i = 0; i < 1000; i++) {
      const key = `user-${i}x`
      const reversed = [...key].reverse().join('')
      if (byteSum(key, 16) === byteSum(reversed, 16)) sumAnagrams++
      if (defaultLaneReducer(key, 16) === defaultLaneReducer(reversed, 16)) ourAnagrams++
    }
    assert.equal(sumAnagrams, 1000)
    assert.ok(ourAnagrams < 120, `${ourAnagrams}`)
  })

  it('does not tie lanes to the low bits of each byte (plain FNV-1a modulo 16 would)', () => {
    let sameLane = 0
    for (let i = 0; i < 1000; i++) {
      if (defaultLaneReducer(`key${i}`, 16) === defaultLaneReducer(`KEY${i}`, 16)) sameLane++
    }
    // "k" and "K" differ only in bit 5: plain FNV-1a modulo 16 puts all 1000 pairs together.
    assert.ok(sameLane < 120, `${sameLane}`)
  })
})
