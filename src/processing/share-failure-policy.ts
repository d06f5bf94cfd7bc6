import type { EventBus } from '../instrumentation/events.ts'
import type { DeadLetterSink } from './dead-letter-queue.ts'
import { DeserializationError } from './deserializers.ts'
import { type FailureDecision, type FailurePolicy, reportRecordError } from './failure-policy.ts'
import { backoffDelay } from './retry-backoff.ts'
import type { ConsumerGroupInfo } from './runtime-input.ts'
import type { WorkUnit } from './work-unit.ts'

export interface RetryOrRejectOptions {
  group: ConsumerGroupInfo
  events: EventBus
  deadLetters: DeadLetterSink
}

/**
 * A share group's failure policy. `retries.mode: 'local'` retries in this member after the
 * backoff (its lock renewed meanwhile, delivery count unchanged); `'redeliver'` releases the
 * record (any member may get it, its delivery count grows). A record that failed more than
 * `maxRetries` times — counting earlier deliveries in `'redeliver'` mode — is rejected on the
 * broker, after a produce to the client-side dead letter topic when one is configured.
 */
export class RetryOrReject implements FailurePolicy {
  readonly #o: RetryOrRejectOptions

  constructor(options: RetryOrRejectOptions) {
    this.#o = options
  }

  onFailure(unit: WorkUnit, error: Error): FailureDecision | Promise<FailureDecision> {
    const { events, group } = this.#o
    const topic = unit.run.topic
    const type =
      error instanceof DeserializationError ? 'consumer.deserializer.error' : 'consumer.handler.error'
    reportRecordError(events, group, type, error, unit, unit.attempt)
    const redeliver = topic.retries.mode === 'redeliver'
    // Failed deliveries before this one count in 'redeliver' mode (each ended in a release).
    const failures = (redeliver ? unit.wrappedRecord.deliveryCount - 1 : 0) + unit.attempt
    if (failures > topic.retries.maxRetries) {
      if (topic.deadLetterQueue) return this.#deadLetter(unit, error)
      reportRecordError(events, group, 'consumer.retries_exhausted', error, unit, unit.attempt)
      return { outcome: 'rejected' }
    }
    return redeliver
      ? { outcome: 'released' }
      : { retryAfterMs: backoffDelay(failures, topic.retries.backoff) }
  }

  retryPending(unit: WorkUnit): Promise<FailureDecision> {
    return this.#deadLetter(unit, unit.pendingFailure!)
  }

  onSuccess(_unit: WorkUnit): void {}

  async #deadLetter(unit: WorkUnit, error: Error): Promise<FailureDecision> {
    const { events, group, deadLetters } = this.#o
    const dlq = unit.run.topic.deadLetterQueue!
    try {
      await deadLetters.dispatch(dlq.topic, unit.records(), group.name, unit.attempt, error)
    } catch (dispatchError) {
      unit.pendingFailure = error
      reportRecordError(events, group, 'dead_letter_queue.dispatch.error', dispatchError, unit)
      return { retryAfterMs: backoffDelay(2, unit.run.topic.retries.backoff) }
    }
    unit.pendingFailure = undefined
    for (const r of unit.records()) {
      events.emit('dead_letter_queue.dispatched', {
        consumerGroup: group.name,
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        deadLetterTopic: dlq.topic,
        attempts: unit.attempt,
        error,
      })
    }
    return { outcome: 'dead_lettered' }
  }
}
