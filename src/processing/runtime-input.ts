/**
 * What the processing runtime is given: its own input types. The app layer (`src/app/`) builds
 * them from the validated definition; the runtime never sees the DSL.
 */
import type { Deserializer } from './deserializers.ts'
import type { ConsumerGroupInfo } from './group-info.ts'
import type { HandlerContext } from './handler-context.ts'
import type { ConsumedRecord } from './record.ts'

/** `'blocking'`: poll → process the batch → commit → poll. `'continuous'`: decoupled, up to `capacity` in flight. */
export type ProcessingStyle = 'blocking' | 'continuous'
/** Which records of a partition may run at the same time. */
export type Ordering = 'partition' | 'key' | 'unordered'

/** How a topic's records are taken, run and committed. */
export interface ProcessingSettings {
  style: ProcessingStyle
  /**
   * Handlers running at once, per group member. With `partition`/`key` ordering up to
   * 3 × capacity more records may wait in their lanes.
   */
  capacity: number
  ordering: Ordering
  /** Blocking style: records per poll. */
  maxPollRecords: number
  commitIntervalMs: number
  /**
   * Continuous style: commit once this many records finished since the last commit started,
   * without waiting for `commitIntervalMs`. Absent: on the interval only (share groups).
   */
  commitAfterRecords?: number
}

/** Lanes inside a partition for `key` ordering (virtual partitions). */
export interface VirtualPartitionsSettings {
  /** Returns the ordering key of a record (default: the record key). Must not need the payload. */
  partitioner: (record: ConsumedRecord<unknown>) => unknown
  /** Maps a partitioner value to a lane in [0, maxPartitions). */
  reducer: (value: unknown, maxPartitions: number) => number
  maxPartitions: number
}

/** Delay schedule between retries of a failed record. */
export interface BackoffSettings {
  initialMs: number
  maxMs: number
  exponential: boolean
}

export interface RetrySettings {
  /** Failures of a record before it goes to the dead letter queue (or, without one, before the event type says retries are exhausted). */
  maxRetries: number
  backoff: BackoffSettings
  /**
   * Share groups: `'local'` retries in this member after the backoff (lock renewed meanwhile);
   * `'redeliver'` releases the record to the group. Consumer groups always retry locally.
   */
  mode: 'local' | 'redeliver'
}

export interface DeadLetterQueueSettings {
  topic: string
  /** Karafka semantics: true counts failures per record; false counts consecutive failures of a lane until a record is dispatched. */
  independent: boolean
}

/** Handles one record; a rejection or throw is a failure that is retried. */
export type RecordHandler<T = unknown> = (record: ConsumedRecord<T>, context: HandlerContext) => unknown
/** Handles a batch of records at once; a rejection or throw is a failure that is retried. */
export type BatchHandler<T = unknown> = (records: ConsumedRecord<T>[], context: HandlerContext) => unknown

/** One consumed topic as the runtime runs it. */
export interface RuntimeTopic {
  name: string
  /** Exactly one of handler / batchHandler is set. */
  handler?: RecordHandler
  batchHandler?: BatchHandler
  deserializer: Deserializer<unknown>
  processing: ProcessingSettings
  virtualPartitions: VirtualPartitionsSettings
  retries: RetrySettings
  deadLetterQueue?: DeadLetterQueueSettings
  /** The handler marks records itself (ctx.markAsConsumed); unmarked records are never committed past. */
  manualOffsets: boolean
}

/** One group member's processing: which group, which topics, and its timing limits. */
export interface RuntimeGroup {
  group: ConsumerGroupInfo
  /** How logs name the member (the defined group, with its segment when there is one). */
  label: string
  /** All topics of a group share one style (one processing loop per member). */
  topics: readonly RuntimeTopic[]
  /** How long a revocation may drain in-flight records before they are abandoned. */
  revokeTimeoutMs: number
  /** How long a graceful shutdown waits for in-flight records. */
  shutdownTimeoutMs: number
  /** Interval of `statistics.emitted` events (0 disables them). */
  statisticsIntervalMs: number
}
