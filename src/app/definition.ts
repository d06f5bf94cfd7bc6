/**
 * The validated, defaults-applied shape of an application: what `createApp` and its builders
 * produce and what the runtime executes. Each feature's options (type, contract, defaults)
 * live in `src/app/options/<feature>.ts`; this file only assembles them.
 */

import type { KafkaConnectionOptions } from '../kafka/connection-options.ts'
import type { RuntimeTopic } from '../processing/runtime-input.ts'
import type { HealthSettings } from './health.ts'
import type { ParallelSegmentsSettings } from './options/parallel-segments.ts'
import type { ShareGroupSettings } from './options/share-group.ts'
import type { TracingSettings } from './options/tracing.ts'

// The resolved per-topic settings are the processing runtime's own input types.
export type {
  BackoffSettings,
  BatchHandler,
  DeadLetterQueueSettings,
  Ordering,
  ProcessingSettings,
  ProcessingStyle,
  RecordHandler,
  RetrySettings,
  VirtualPartitionsSettings,
} from '../processing/runtime-input.ts'

/** One topic of a consumer group, validated, defaults applied. */
export type TopicDefinition = RuntimeTopic

export interface ConsumerGroupSettings {
  autoOffsetReset: 'earliest' | 'latest'
  isolationLevel: 'read_uncommitted' | 'read_committed'
  groupInstanceId?: string
  rebalanceTimeoutMs: number
  /** How long a revocation may drain in-flight records before they are abandoned. */
  revokeTimeoutMs: number
  /** This group's protocol; undefined: the app's `groupProtocol`. */
  groupProtocol?: GroupProtocolSetting
  /** Classic protocol: how long the coordinator keeps a silent member. */
  sessionTimeoutMs: number
  /** Classic protocol: time between heartbeats. */
  heartbeatIntervalMs: number
  /** Classic protocol: the assignors offered, by preference. */
  assignors: ClassicAssignorSetting[]
}

/** `groupProtocol`: KIP-848 (`consumer`), `classic`, or `auto` (KIP-848 where the cluster offers it). */
export type GroupProtocolSetting = 'auto' | 'consumer' | 'classic'

/** The classic assignors, by their Java / librdkafka names. */
export type ClassicAssignorSetting = 'cooperative-sticky' | 'range' | 'roundrobin'

export interface ConsumerGroupDefinition {
  name: string
  settings: ConsumerGroupSettings
  topics: TopicDefinition[]
  /** `count` 1: not split. */
  parallelSegments: ParallelSegmentsSettings
}

export interface AppSettings {
  kafka: KafkaConnectionOptions
  /** The consumer groups' protocol unless a group sets its own (docs/classic-protocol.md). */
  groupProtocol: GroupProtocolSetting
  /** How long a graceful shutdown waits for in-flight records. */
  shutdownTimeoutMs: number
  /** Interval of `statistics.emitted` events (0 disables them). */
  statisticsIntervalMs: number
  /** OpenTelemetry tracing (docs/tracing.md). */
  tracing: TracingSettings
  /** How `app.health()` judges readiness. */
  health: HealthSettings
}

/** A share group (KIP-932): its records are shared out to its members record by record. */
export interface ShareGroupDefinition {
  name: string
  settings: ShareGroupSettings
  topics: TopicDefinition[]
}

export interface AppDefinition {
  settings: AppSettings
  consumerGroups: ConsumerGroupDefinition[]
  shareGroups: ShareGroupDefinition[]
}
