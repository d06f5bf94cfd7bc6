import type { EventBus, ListenerFlag } from '../instrumentation/events.ts'
import type { UnitInstrumentation } from '../instrumentation/tracing.ts'
import type { FailureDecision, FailurePolicy } from './failure-policy.ts'
import type { ConsumerGroupInfo } from './group-info.ts'
import type { IntakeBudget } from './intake-budget.ts'
import { UNIT_DONE, type UnitOutcome } from './lane-scheduler.ts'
import type { RecordOutcome } from './progress.ts'
import type { WorkUnit } from './work-unit.ts'

export interface UnitExecutorOptions {
  group: ConsumerGroupInfo
  events: EventBus
  policy: FailurePolicy
  /** Units that finish or are abandoned are released from it. */
  budget: IntakeBudget
  /** Tracing: wraps each attempt when active (src/instrumentation/tracing.ts). */
  instrument?: UnitInstrumentation
  /** `count` records finished (their outcome went to their progress): commits follow progress. */
  finished?(count: number): void
}

const DONE = UNIT_DONE

/**
 * handle → track: runs a unit's handler, and on its result tells the unit's progress how its
 * records ended — succeeded, or what the failure policy decided — or has it retried later.
 */
export class UnitExecutor {
  readonly #o: UnitExecutorOptions
  /** Someone listens to `consumer.consumed` (checked twice per record). */
  readonly #consumed: ListenerFlag

  constructor(options: UnitExecutorOptions) {
    this.#o = options
    this.#consumed = options.events.flag('consumer.consumed')
  }

  /** Runs a unit; synchronous handlers complete without a promise. */
  execute(unit: WorkUnit): UnitOutcome | Promise<UnitOutcome> {
    // Instrumentation hook, kept to this one check when tracing is off.
    const instrument = this.#o.instrument
    return instrument?.active ? instrument.execute(unit, this.#run) : this.#execute(unit)
  }

  readonly #run = (unit: WorkUnit): UnitOutcome | Promise<UnitOutcome> => this.#execute(unit)

  #execute(unit: WorkUnit): UnitOutcome | Promise<UnitOutcome> {
    if (unit.run.dropsUnfinished) {
      // Revoked, lost or sought away before it ran: it is delivered again (to the next owner).
      this.abandon(unit)
      return DONE
    }
    if (unit.pendingFailure) return this.#o.policy.retryPending(unit).then((d) => this.#apply(unit, d))
    unit.attempt++
    const topic = unit.run.topic
    // Handler time is only measured when someone listens to consumer.consumed.
    const started = this.#consumed.on ? performance.now() : -1
    let result: unknown
    try {
      result = topic.handler
        ? topic.handler(unit.wrappedRecord, unit)
        : topic.batchHandler!(unit.wrapped(), unit)
    } catch (error) {
      return this.#afterFailure(unit, error)
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        () => this.#afterSuccess(unit, started),
        (error: unknown) => this.#afterFailure(unit, error),
      )
    }
    return this.#afterSuccess(unit, started)
  }

  /** The unit's records are dropped unfinished: they must be delivered again. */
  abandon(unit: WorkUnit): void {
    if (unit.size === 1) unit.progress.abandon(unit.record.offset)
    else for (const r of unit.records()) unit.progress.abandon(r.offset)
    this.#o.budget.release(unit)
  }

  #afterSuccess(unit: WorkUnit, started: number): UnitOutcome {
    this.#o.policy.onSuccess(unit)
    this.#finish(unit, 'succeeded')
    // Measured (started ≥ 0) when someone listened as the handler started; a listener added
    // while it ran is told too (nobody measured: 0).
    const { events } = this.#o
    if (started >= 0 || this.#consumed.on) {
      const { group } = this.#o
      const durationMs = started < 0 ? 0 : performance.now() - started
      for (const r of unit.records()) {
        events.emit('consumer.consumed', {
          consumerGroup: group.name,
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          durationMs,
          attempts: unit.attempt,
        })
      }
    }
    this.#o.budget.release(unit)
    return DONE
  }

  #afterFailure(unit: WorkUnit, error: unknown): UnitOutcome | Promise<UnitOutcome> {
    if (unit.run.dropsUnfinished) {
      // Retrying would hold up the revocation or the seek: the next owner gets the record.
      this.abandon(unit)
      return DONE
    }
    const decision = this.#o.policy.onFailure(unit, error instanceof Error ? error : new Error(String(error)))
    return decision instanceof Promise
      ? decision.then((d) => this.#apply(unit, d))
      : this.#apply(unit, decision)
  }

  #apply(unit: WorkUnit, decision: FailureDecision): UnitOutcome {
    if ('retryAfterMs' in decision) {
      // The partition started leaving (or a seek) while the policy worked: no retry timer.
      if (unit.run.dropsUnfinished) {
        this.abandon(unit)
        return DONE
      }
      return { done: false, retryAfterMs: decision.retryAfterMs }
    }
    this.#finish(unit, decision.outcome)
    this.#o.budget.release(unit)
    return DONE
  }

  /** Tells the unit's progress how its records ended; manual offsets wait for the handler's mark. */
  #finish(unit: WorkUnit, outcome: RecordOutcome): void {
    const { run, progress } = unit
    const manual = run.topic.manualOffsets && run.active
    if (unit.size === 1 && !manual) progress.finish(unit.record.offset, outcome)
    else {
      for (const r of unit.records()) {
        if (manual && r.offset > run.markedUpTo) run.finishedUnmarked.push({ offset: r.offset, progress })
        else progress.finish(r.offset, outcome)
      }
    }
    this.#o.finished?.(unit.size)
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}
