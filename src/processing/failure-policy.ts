import type { ErrorType, EventBus } from '../instrumentation/events.ts'
import type { DeadLetterSink } from './dead-letter-queue.ts'
import { DeserializationError } from './deserializers.ts'
import type { ConsumerGroupInfo } from './group-info.ts'
import type { RecordOutcome } from './progress.ts'
import { backoffDelay } from './retry-backoff.ts'
import type { WorkUnit } from './work-unit.ts'

/** What happens to a unit after a failure: run it again later, or end it with an outcome. */
export type FailureDecision = { retryAfterMs: number } | { outcome: RecordOutcome }

/**
 * Decides what a failed unit becomes. Consumer groups retry in place and dead-letter what is
 * exhausted ({@link RetryThenDeadLetter}); share groups may release records for redelivery
 * and reject what is exhausted.
 */
export interface FailurePolicy {
  /** The unit's handler (or deserializer) failed with `error` on attempt `unit.attempt`. */
  onFailure(unit: WorkUnit, error: Error): FailureDecision | Promise<FailureDecision>
  /**
   * Called instead of the handler when the policy's own final step failed before and the unit
   * came back for it (`unit.pendingFailure` is set): e.g. the dead letter produce.
   */
  retryPending(unit: WorkUnit): Promise<FailureDecision>
  /** The unit succeeded. */
  onSuccess(unit: WorkUnit): void
}

/** Reports a record's failure as `error.occurred`. */
export function reportRecordError(
  events: EventBus,
  group: ConsumerGroupInfo,
  type: ErrorType,
  error: unknown,
  unit: Pick<WorkUnit, 'run' | 'record'>,
  attempt?: number,
): void {
  events.emit('error.occurred', {
    type,
    error: error instanceof Error ? error : new Error(String(error)),
    consumerGroup: group.name,
    topic: unit.run.topic.name,
    partition: unit.run.partition,
    offset: unit.record.offset,
    attempt,
  })
}

export interface RetryThenDeadLetterOptions {
  group: ConsumerGroupInfo
  events: EventBus
  deadLetters: DeadLetterSink
  /** Units of the unit's lane queued, running or waiting (ends Karafka-style lane-wide failure counts). */
  laneQueued(unit: WorkUnit): number
}

/**
 * A consumer group's failure policy: retry with backoff in place (later records of the lane
 * wait); after `maxRetries` failed retries, produce the records to the dead letter topic and
 * count them as done, or, without one, keep retrying and say retries are exhausted.
 */
export class RetryThenDeadLetter implements FailurePolicy {
  readonly #options: RetryThenDeadLetterOptions

  constructor(options: RetryThenDeadLetterOptions) {
    this.#options = options
  }

  onFailure(unit: WorkUnit, error: Error): FailureDecision | Promise<FailureDecision> {
    const { events, group } = this.#options
    const { run } = unit
    const topic = run.topic
    const dlq = topic.deadLetterQueue
    // Karafka semantics: `independent` counts per record; otherwise consecutive failures of a lane.
    let failures = unit.attempt
    if (dlq && !dlq.independent && unit.lane !== null) {
      failures = (run.laneFailures.get(unit.lane) ?? 0) + 1
      run.laneFailures.set(unit.lane, failures)
    }
    const type =
      error instanceof DeserializationError ? 'consumer.deserializer.error' : 'consumer.handler.error'
    reportRecordError(events, group, type, error, unit, unit.attempt)
    const { maxRetries, backoff } = topic.retries
    if (failures > maxRetries) {
      if (dlq) return this.#deadLetter(unit, error)
      reportRecordError(events, group, 'consumer.retries_exhausted', error, unit, unit.attempt)
    }
    return { retryAfterMs: backoffDelay(failures, backoff) }
  }

  retryPending(unit: WorkUnit): Promise<FailureDecision> {
    return this.#deadLetter(unit, unit.pendingFailure!)
  }

  onSuccess(unit: WorkUnit): void {
    // Non-independent failure counting (Karafka's default) spans the lane's retry period: it
    // ends when the lane has run dry without an error, like a batch passing in Karafka.
    if (unit.lane !== null && this.#options.laneQueued(unit) <= 1) unit.run.laneFailures.delete(unit.lane)
  }

  async #deadLetter(unit: WorkUnit, error: Error): Promise<FailureDecision> {
    const { events, group, deadLetters } = this.#options
    const decision = await deadLetter(unit, error, { events, group, deadLetters })
    if ('outcome' in decision && unit.lane !== null) unit.run.laneFailures.delete(unit.lane)
    return decision
  }
}

/**
 * Produces a failed unit's records to its topic's dead letter topic. A failed produce is
 * reported and retried after a backoff (the unit keeps `pendingFailure`: the produce is retried,
 * not the handler); a done one is reported per record and ends the unit as dead-lettered.
 * Shared by the consumer- and share-group policies.
 */
export async function deadLetter(
  unit: WorkUnit,
  error: Error,
  o: { events: EventBus; group: ConsumerGroupInfo; deadLetters: DeadLetterSink },
): Promise<FailureDecision> {
  const dlq = unit.run.topic.deadLetterQueue!
  try {
    await o.deadLetters.dispatch(dlq.topic, unit.records(), o.group.name, unit.attempt, error)
  } catch (dispatchError) {
    unit.pendingFailure = error
    reportRecordError(o.events, o.group, 'dead_letter_queue.dispatch.error', dispatchError, unit)
    return { retryAfterMs: backoffDelay(2, unit.run.topic.retries.backoff) }
  }
  unit.pendingFailure = undefined
  for (const r of unit.records()) {
    o.events.emit('dead_letter_queue.dispatched', {
      consumerGroup: o.group.name,
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
