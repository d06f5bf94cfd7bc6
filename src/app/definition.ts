/**
 * The validated, defaults-applied shape of an application: what `createApp` and its builders
 * produce and what the runtime executes. Each feature's options (type, contract, defaults)
 * live in `src/app/options/<feature>.ts`; this file only assembles them.
 */
import type { KafkaConnectionOptions } from '../kafka/connection-options.ts'
import type { Deserializer } from '../processing/deserializers.ts'
import type { HandlerContext } from '../processing/handler-context.ts'
import type { ConsumedRecord } from '../processing/record.ts'

export type ProcessingStyle = 'blocking' | 'continuous'
export type Ordering = 'partition' | 'key' | 'unordered'

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
}

export interface VirtualPartitionsSettings {
  /** Returns the ordering key of a record (default: the record key). Must not need the payload. */
  partitioner: (record: ConsumedRecord<unknown>) => unknown
  /** Maps a partitioner value to a lane in [0, maxPartitions). */
  reducer: (value: unknown, maxPartitions: number) => number
  maxPartitions: number
}

export interface BackoffSettings {
  initialMs: number
  maxMs: number
  exponential: boolean
}

export interface RetrySettings {
  /** Failures of a record before it goes to the dead letter queue (or, without one, before the event type says retries are exhausted). */
  maxRetries: number
  backoff: BackoffSettings
}

export interface DeadLetterQueueSettings {
  topic: string
  /** Karafka semantics: true counts failures per record; false counts consecutive failures of a lane until a record is dispatched. */
  independent: boolean
}

export type RecordHandler<T = unknown> = (record: ConsumedRecord<T>, context: HandlerContext) => unknown
export type BatchHandler<T = unknown> = (records: ConsumedRecord<T>[], context: HandlerContext) => unknown

export interface TopicDefinition {
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

export interface ConsumerGroupSettings {
  autoOffsetReset: 'earliest' | 'latest'
  isolationLevel: 'read_uncommitted' | 'read_committed'
  groupInstanceId?: string
  rebalanceTimeoutMs: number
  /** How long a revocation may drain in-flight records before they are abandoned. */
  revokeTimeoutMs: number
}

export interface ConsumerGroupDefinition {
  name: string
  settings: ConsumerGroupSettings
  topics: TopicDefinition[]
}

export interface AppSettings {
  kafka: KafkaConnectionOptions
  /** How long a graceful shutdown waits for in-flight records. */
  shutdownTimeoutMs: number
  /** Interval of `statistics.emitted` events (0 disables them). */
  statisticsIntervalMs: number
}

export interface AppDefinition {
  settings: AppSettings
  consumerGroups: ConsumerGroupDefinition[]
}
