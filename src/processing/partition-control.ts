import type { Logger } from 'pino'
import { MultilaneError } from '../errors.ts'
import type { ConsumerGroupInfo } from './group-info.ts'
import type { IntakeBudget } from './intake-budget.ts'
import type { LaneScheduler } from './lane-scheduler.ts'
import type { PartitionRun } from './partition-run.ts'
import type { Progress } from './progress.ts'
import type { RecordSource } from './record-source.ts'
import type { UnitExecutor } from './unit-executor.ts'
import type { UnitHost, WorkUnit } from './work-unit.ts'

export interface PartitionControlOptions {
  group: ConsumerGroupInfo
  /** How errors name the member. */
  label: string
  /** The member's logger; handler contexts bind theirs to it. */
  logger: Logger
  source: RecordSource
  progress: Progress
  budget: IntakeBudget
  /** The lane scheduler of each topic, by topic name. */
  schedulers: ReadonlyMap<string, LaneScheduler<WorkUnit>>
  executor: UnitExecutor
}

/**
 * What handlers do to their partition through their context — pause and resume it, mark
 * records as consumed, seek, commit now — and dropping a partition's records that have not
 * started (for a seek, a revocation, a position reset, a retired run).
 */
export class PartitionControl implements UnitHost {
  readonly group: ConsumerGroupInfo
  readonly logger: Logger
  readonly #o: PartitionControlOptions

  constructor(options: PartitionControlOptions) {
    this.group = options.group
    this.logger = options.logger
    this.#o = options
  }

  pausePartition(run: PartitionRun, paused: boolean): void {
    const { source } = this.#o
    // A share member cannot stop fetching one partition: what it had fetched would sit locked
    // until the locks ran out, and the member would stop taking that partition's records.
    if (!source.pause || !source.resume) {
      throw new MultilaneError(
        'PAUSE_UNSUPPORTED',
        `${this.#o.label}: this group's partitions cannot be paused (a share group shares them with its other members; let the handler wait, or stop the member)`,
      )
    }
    if (run.userPaused === paused || !run.active) return
    run.userPaused = paused
    const tp = [{ topic: run.topic.name, partition: run.partition }]
    if (paused) source.pause?.(tp)
    else {
      source.resume?.(tp)
      this.#o.budget.wake()
    }
  }

  markAsConsumed(run: PartitionRun, offset: number): void {
    if (!run.active) return
    run.markedUpTo = Math.max(run.markedUpTo, offset)
    const rest: PartitionRun['finishedUnmarked'] = []
    for (const f of run.finishedUnmarked) {
      if (f.offset <= run.markedUpTo) f.progress.finish(f.offset, 'succeeded')
      else rest.push(f)
    }
    run.finishedUnmarked = rest
    this.#o.budget.wake()
  }

  requestSeek(run: PartitionRun, offset: number): void {
    if (!this.#o.source.seek) {
      throw new MultilaneError('SEEK_UNSUPPORTED', `${this.#o.label}: this group's records cannot be sought`)
    }
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new MultilaneError('INVALID_SEEK', `seek offset must be a non-negative integer, got ${offset}`)
    }
    if (!run.active || run.revoking) return
    run.seekTo = offset
    // Queued and retry-waiting records are dropped now (abandoning the last of them may
    // apply the seek already); it applies once the running ones finish.
    this.abandonQueued(run)
    if (run.inFlight === 0 && run.seekTo !== undefined) this.#applySeek(run)
  }

  /** The last record in flight of `run` left: a seek that waited for it applies now. */
  drained(run: PartitionRun): void {
    if (run.seekTo !== undefined && run.active && !run.revoking) this.#applySeek(run)
  }

  #applySeek(run: PartitionRun): void {
    const offset = run.seekTo!
    run.seekTo = undefined
    run.progress = this.#o.progress.reposition(run.progress, offset)
    run.finishedUnmarked = []
    run.markedUpTo = -1
    this.#o.source.seek!({ topic: run.topic.name, partition: run.partition }, offset)
    this.#o.budget.wake()
  }

  /** Drops the records of `run` from offset `from` on that have not started (queued or waiting for a retry): they are delivered again. */
  abandonQueued(run: PartitionRun, from = 0): void {
    const predicate = (u: WorkUnit) => u.run === run && u.record.offset >= from
    for (const unit of [...this.#o.schedulers.values()].flatMap((s) => s.drop(predicate)))
      this.#o.executor.abandon(unit)
  }

  /** `ctx.commit()`: rejects when the commit failed, or the partition is no longer this member's. */
  async commitPartition(run: PartitionRun): Promise<void> {
    if (!run.active || run.revoking) {
      throw new MultilaneError(
        'PARTITION_NOT_OWNED',
        `${run.topic.name}#${run.partition} is being revoked or was lost: nothing more is committed for it here`,
      )
    }
    await this.#o.progress.flush([run.progress], { throwOnError: true })
  }
}
