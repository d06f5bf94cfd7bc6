import type { Logger } from 'pino'
import type { AppSettings, ConsumerGroupDefinition } from '../app/definition.ts'
import { GroupConsumer } from '../engine/group-consumer.ts'
import type { EventBus } from '../instrumentation/events.ts'
import type { DeadLetterQueueProducer } from './dead-letter-queue.ts'
import { OffsetCommitProgress } from './offset-commit-progress.ts'
import { ProcessingRuntime, type RecordFilter } from './processing-runtime.ts'

export interface ConsumerGroupRuntimeOptions {
  group: ConsumerGroupDefinition
  app: AppSettings
  events: EventBus
  logger: Logger
  deadLetters: DeadLetterQueueProducer
  /** Records it rejects are not processed and count as done (parallel segments). */
  filter?: RecordFilter
}

/**
 * A consumer group member's processing: the engine's KIP-848 member as the record source,
 * progress committed as offsets with an offset map in the commit metadata.
 */
export function createConsumerGroupRuntime(options: ConsumerGroupRuntimeOptions): ProcessingRuntime {
  const { group, app, events } = options
  let consumer: GroupConsumer | undefined
  const progress = new OffsetCommitProgress({
    consumerGroup: group.name,
    events,
    commit: (offsets) => consumer!.commit(offsets),
  })
  return new ProcessingRuntime({
    ...options,
    progress,
    source: (hooks) => {
      const s = group.settings
      consumer = new GroupConsumer({
        ...app.kafka,
        groupId: group.name,
        topics: group.topics.map((t) => t.name),
        autoOffsetReset: s.autoOffsetReset,
        isolationLevel: s.isolationLevel,
        groupInstanceId: s.groupInstanceId,
        rebalanceTimeoutMs: s.rebalanceTimeoutMs,
        // A backstop: the runtime drains within its own deadline and commits before it.
        revokeTimeoutMs: Math.max(s.revokeTimeoutMs, app.shutdownTimeoutMs) + 10_000,
        hooks: {
          onAssigned: (partitions) => hooks.onAssigned(partitions),
          onRevoked: (partitions, { reason }) => hooks.onRevoked(partitions, reason),
        },
      })
      consumer.on('warning', (e) =>
        events.emit('error.occurred', {
          type: 'consumer.connection.error',
          error: e.error,
          consumerGroup: group.name,
        }),
      )
      consumer.on('fatal', (error) =>
        events.emit('error.occurred', { type: 'consumer.fatal', error, consumerGroup: group.name }),
      )
      return consumer
    },
  })
}
