import type { KafkaConnectionOptions } from '../kafka/connection-options.ts'
import { EngineError } from './errors.ts'
import {
  type BufferLimits,
  DEFAULT_BUFFER_LIMITS,
  DEFAULT_FETCH_OPTIONS,
  type FetchOptions,
} from './fetch-options.ts'
import type { GroupProtocol } from './membership.ts'
import type { AutoOffsetReset, IsolationLevel } from './offset-resolver.ts'
import type {
  AssignedPartition,
  AssignmentHooks,
  OffsetToCommit,
  PositionReset,
  RevokeReason,
  TopicPartition,
} from './types.ts'
import { keepV8DefaultsProblem } from './v8-buffer-gc.ts'

/** Options of one consumer group member. */
export interface GroupConsumerOptions extends KafkaConnectionOptions {
  groupId: string
  /** Topic names to subscribe to (or `topicPattern`). */
  topics?: readonly string[]
  /** A server-side regular expression (RE2/J syntax) of topic names. */
  topicPattern?: string
  /** Static membership id: a restarted process with the same id gets its partitions back. */
  groupInstanceId?: string
  rackId?: string
  /** Where to start without a committed offset, or after OFFSET_OUT_OF_RANGE (default `earliest`). */
  autoOffsetReset?: AutoOffsetReset
  /** `read_committed` skips records of aborted transactions (default `read_uncommitted`). */
  isolationLevel?: IsolationLevel
  /** How long the coordinator waits for revocations (default 60 s). */
  rebalanceTimeoutMs?: number
  /** How long a revocation waits for the `onRevoked` hook before abandoning it (default 30 s). */
  revokeTimeoutMs?: number
  /** Server-side assignor, `uniform` (broker default) or `range` (KIP-848 protocol only). */
  serverAssignor?: string
  /**
   * The group protocol: `consumer` (KIP-848, Kafka ≥ 4.0 with group.version ≥ 1), `classic`
   * (JoinGroup/SyncGroup, any Kafka ≥ 3.9), or `auto` (default): `consumer` where the cluster's
   * finalized `group.version` feature is ≥ 1, else `classic`.
   */
  groupProtocol?: GroupProtocolOption
  /** Classic protocol: how long the coordinator keeps a silent member (default 45 s). */
  sessionTimeoutMs?: number
  /** Classic protocol: time between heartbeats (default 3 s). */
  heartbeatIntervalMs?: number
  /**
   * Classic protocol: the assignors offered, by preference (default `['cooperative-sticky']`).
   * Cooperative (incremental) rebalancing when every one offered is cooperative, eager otherwise.
   */
  assignors?: readonly ClassicAssignorName[]
  /** How often subscribed topics that do not exist are looked for again (default 10 s). */
  missingTopicCheckMs?: number
  fetch?: Partial<FetchOptions>
  buffer?: Partial<BufferLimits>
  hooks?: AssignmentHooks
}

/** `groupProtocol`'s values. */
export type GroupProtocolOption = 'auto' | GroupProtocol

/** The classic assignors multilane implements, by their (Java / librdkafka) protocol names. */
export type ClassicAssignorName = 'cooperative-sticky' | 'range' | 'roundrobin'

export interface GroupConsumerEvents {
  /** Emitted once at start: the protocol the member speaks, what was asked for, and why. */
  group_protocol: [{ protocol: GroupProtocol; requested: GroupProtocolOption; reason: string }]
  partitions_assigned: [{ partitions: AssignedPartition[] }]
  partitions_revoked: [{ partitions: TopicPartition[]; reason: RevokeReason; timedOut: boolean }]
  committed: [{ offsets: OffsetToCommit[]; durationMs: number }]
  commit_failed: [{ offsets: OffsetToCommit[]; error: EngineError }]
  /** A partition's position moved on the engine's own decision (offset reset, log truncation). */
  position_reset: [PositionReset]
  /** Subscribed topics that do not exist (at start, then every `missingTopicCheckMs` while some are missing). */
  topics_missing: [{ topics: string[] }]
  /** A recoverable failure the engine retries on its own (fetch, heartbeat, metadata). */
  warning: [{ source: 'fetch' | 'heartbeat' | 'revoke' | 'metadata'; error: Error }]
  /** The member cannot continue (e.g. not authorized, a refused assignment); the consumer closes. */
  fatal: [EngineError]
}

/** A positive number option, or the fallback; INVALID_OPTION (naming the option) otherwise. */
export function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v <= 0) {
    throw new EngineError('INVALID_OPTION', `${name} must be a positive number, got ${String(value)}`)
  }
  return v
}

/** The options a GroupConsumer runs with, checked; a bad option fails here, naming it. */
export interface CheckedGroupConsumerOptions {
  fetch: FetchOptions
  buffer: BufferLimits
  revokeTimeoutMs: number
  missingTopicCheckMs: number
}

export function checkGroupConsumerOptions(options: GroupConsumerOptions): CheckedGroupConsumerOptions {
  if (!options.groupId) throw new EngineError('INVALID_OPTION', 'groupId must be a non-empty string')
  if (!options.topicPattern && !options.topics?.length) {
    throw new EngineError('INVALID_OPTION', `group "${options.groupId}": give topics or topicPattern`)
  }
  const revokeTimeoutMs = positive('revokeTimeoutMs', options.revokeTimeoutMs, 30_000)
  const missingTopicCheckMs = positive('missingTopicCheckMs', options.missingTopicCheckMs, 10_000)
  const fetch = { ...DEFAULT_FETCH_OPTIONS, ...options.fetch }
  const buffer = { ...DEFAULT_BUFFER_LIMITS, ...options.buffer }
  for (const [k, v] of Object.entries({ ...fetch, ...buffer })) positive(k, v, 1)
  // Read again when the consumer starts (src/engine/v8-buffer-gc.ts): a typo fails here.
  const problem = keepV8DefaultsProblem()
  if (problem) throw new EngineError('INVALID_OPTION', problem)
  return { fetch, buffer, revokeTimeoutMs, missingTopicCheckMs }
}
