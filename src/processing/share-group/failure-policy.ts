import type { EventBus } from '../../instrumentation/events.ts'
import type { DeadLetterSink } from '../dead-letter-queue.ts'
import { DeserializationError } from '../deserializers.ts'
import { deadLetter, type FailureDecision, type FailurePolicy, reportRecordError } from '../failure-policy.ts'
import type { ConsumerGroupInfo } from '../group-info.ts'
import { backoffDelay } from '../retry-backoff.ts'
import type { WorkUnit } from '../work-unit.ts'

export interface RetryOrRejectOptions {
  group: ConsumerGroupInfo
  events: EventBus
  deadLetters: DeadLetterSink
  /**
   * The group's delivery count limit as the broker has it now, when known: a record released on
   * that delivery would be archived by the broker, unseen by the dead letter topic and the
   * app's events. Asked each time a release is decided (the limit may change while the member
   * runs).
   */
  deliveryCountLimit(): Promise<number | undefined>
}

/**
 * A share group's failure policy. `retries.mode: 'local'` retries in this member after the
 * backoff (its lock renewed meanwhile, delivery count unchanged); `'redeliver'` releases the
 * record (any member may get it, its delivery count grows). A record that failed more than
 * `maxRetries` times — counting earlier deliveries in `'redeliver'` mode — is rejected on the
 * broker, after a produce to the client-side dead letter topic when one is configured. In
 * `'redeliver'` mode the group's delivery count limit ends the retries too: releasing the
 * record on its last delivery would have the broker archive it without a trace.
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
    const deliveryCount = unit.wrappedRecord.deliveryCount
    const failures = (redeliver ? deliveryCount - 1 : 0) + unit.attempt
    if (failures > topic.retries.maxRetries) return this.#exhausted(unit, error)
    if (!redeliver) return { retryAfterMs: backoffDelay(failures, topic.retries.backoff) }
    // A release on the delivery the broker counts as the last one archives the record: the
    // limit is asked of the broker now, not taken from the start.
    return this.#o
      .deliveryCountLimit()
      .then((limit) =>
        limit !== undefined && deliveryCount >= limit
          ? this.#exhausted(unit, error)
          : { outcome: 'released' },
      )
  }

  #exhausted(unit: WorkUnit, error: Error): FailureDecision | Promise<FailureDecision> {
    const { events, group } = this.#o
    if (unit.run.topic.deadLetterQueue) return deadLetter(unit, error, this.#o)
    reportRecordError(events, group, 'consumer.retries_exhausted', error, unit, unit.attempt)
    return { outcome: 'rejected' }
  }

  retryPending(unit: WorkUnit): Promise<FailureDecision> {
    return deadLetter(unit, unit.pendingFailure!, this.#o)
  }

  onSuccess(_unit: WorkUnit): void {}
}
