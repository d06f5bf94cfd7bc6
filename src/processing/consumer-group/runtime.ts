import type { Logger } from 'pino'
import type { BufferLimits } from '../../engine/fetch-options.ts'
import { GroupConsumer } from '../../engine/group-consumer.ts'
import type { AutoOffsetReset, IsolationLevel } from '../../engine/offset-resolver.ts'
import type { EventBus } from '../../instrumentation/events.ts'
import type { UnitInstrumentation } from '../../instrumentation/tracing.ts'
import type { KafkaConnectionOptions } from '../../kafka/connection-options.ts'
import type { DeadLetterSink } from '../dead-letter-queue.ts'
import { RetryThenDeadLetter } from '../failure-policy.ts'
import { ProcessingRuntime, type RecordFilter } from '../processing-runtime.ts'
import type { RuntimeGroup } from '../runtime-input.ts'
import { type CommitRouting, OffsetCommitProgress } from './offset-commit-progress.ts'

/** Consumer-group membership settings of one member. */
export interface ConsumerGroupMembership {
  autoOffsetReset: AutoOffsetReset
  isolationLevel: IsolationLevel
  groupInstanceId?: string
  rebalanceTimeoutMs: number
  /** The engine's defaults when absent (`auto`, 45 s, 3 s, cooperative-sticky). */
  groupProtocol?: 'auto' | 'consumer' | 'classic'
  sessionTimeoutMs?: number
  heartbeatIntervalMs?: number
  assignors?: Array<'cooperative-sticky' | 'range' | 'roundrobin'>
}

export interface ConsumerGroupRuntimeOptions {
  member: RuntimeGroup
  membership: ConsumerGroupMembership
  kafka: KafkaConnectionOptions
  /** Fetched records the member buffers (the engine's defaults when absent). */
  buffer?: BufferLimits
  events: EventBus
  logger: Logger
  deadLetters: DeadLetterSink
  /** Records it rejects are not processed and count as done (parallel segments). */
  filter?: RecordFilter
  /** Stored with every commit and checked on assignment (a segment's routing fingerprint). */
  routing?: CommitRouting
  /** Called once if the member fails for good. */
  onFatal?(error: Error): void
  /** Tracing of handler attempts. */
  instrument?: UnitInstrumentation
}

/**
 * A consumer group member's processing: the engine's member (KIP-848 or classic) as the record source,
 * progress committed as offsets with an offset map in the commit metadata, failures retried
 * in place and dead-lettered when exhausted.
 */
export function createConsumerGroupRuntime(options: ConsumerGroupRuntimeOptions): ProcessingRuntime {
  const { member, membership, events } = options
  const groupId = member.group.name
  let consumer: GroupConsumer | undefined
  const progress = new OffsetCommitProgress({
    consumerGroup: groupId,
    events,
    commit: (offsets) => consumer!.commit(offsets),
    routing: options.routing,
  })
  return new ProcessingRuntime({
    member,
    events,
    logger: options.logger,
    filter: options.filter,
    onFatal: options.onFatal,
    instrument: options.instrument,
    progress,
    failurePolicy: (laneQueued) =>
      new RetryThenDeadLetter({ group: member.group, events, deadLetters: options.deadLetters, laneQueued }),
    source: (hooks) => {
      consumer = new GroupConsumer({
        ...options.kafka,
        groupId,
        topics: member.topics.map((t) => t.name),
        autoOffsetReset: membership.autoOffsetReset,
        ...(options.buffer ? { buffer: options.buffer } : {}),
        isolationLevel: membership.isolationLevel,
        groupInstanceId: membership.groupInstanceId,
        rebalanceTimeoutMs: membership.rebalanceTimeoutMs,
        groupProtocol: membership.groupProtocol,
        sessionTimeoutMs: membership.sessionTimeoutMs,
        heartbeatIntervalMs: membership.heartbeatIntervalMs,
        assignors: membership.assignors,
        // A backstop: the runtime drains within its own deadline and commits before it.
        revokeTimeoutMs: Math.max(member.revokeTimeoutMs, member.shutdownTimeoutMs) + 10_000,
        hooks: {
          onAssigned: (partitions) => hooks.onAssigned(partitions),
          onRevoked: (partitions, { reason }) => hooks.onRevoked(partitions, reason),
          onPositionReset: (reset) => hooks.onPositionReset(reset),
        },
      })
      consumer.on('warning', (e) =>
        events.emit('error.occurred', {
          type: 'consumer.connection.error',
          error: e.error,
          consumerGroup: groupId,
        }),
      )
      consumer.on('group_protocol', (e) =>
        events.emit('group.protocol_chosen', { consumerGroup: groupId, ...e }),
      )
      consumer.on('topics_missing', (e) =>
        events.emit('topics.missing', { consumerGroup: groupId, topics: e.topics }),
      )
      consumer.on('fatal', (error) => hooks.onFatal(error))
      return consumer
    },
  })
}
