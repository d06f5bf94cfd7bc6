import type { Logger } from 'pino'
import type { ConsumerRecord } from '../engine/types.ts'
import type { ConsumerGroupInfo } from './group-info.ts'
import type { HandlerContext } from './handler-context.ts'
import type { InFlightLink } from './in-flight-units.ts'
import type { PartitionRun } from './partition-run.ts'
import type { PartitionProgress } from './progress.ts'
import type { ConsumedRecord } from './record.ts'

/** What a unit's handler context needs from the runtime. */
export interface UnitHost {
  readonly group: ConsumerGroupInfo
  readonly logger: Logger
  markAsConsumed(run: PartitionRun, offset: number): void
  commitPartition(run: PartitionRun): Promise<void>
  pausePartition(run: PartitionRun, paused: boolean): void
  requestSeek(run: PartitionRun, offset: number): void
}

/**
 * One handler invocation — a record, or a batch of one lane's records — and, at the same
 * time, the context its handler receives: one object per record on the hot path. A single
 * record is kept in fields; arrays exist only for batches.
 */
export class WorkUnit implements HandlerContext, InFlightLink {
  readonly run: PartitionRun
  /**
   * The progress its records were tracked in. A seek or an offset reset gives the run a new
   * one; records taken before still finish into this one (which is then discarded).
   */
  readonly progress: PartitionProgress
  readonly lane: string | null
  readonly record: ConsumerRecord
  readonly wrappedRecord: ConsumedRecord<unknown>
  #batch: { records: ConsumerRecord[]; wrapped: ConsumedRecord<unknown>[] } | undefined
  attempt = 0
  /** The failure policy's final step failed (e.g. the dead letter produce): retry that, not the handler. */
  pendingFailure: Error | undefined
  /** Waiting for a retry, or behind one in its lane: not counted in the topic's budget. */
  parked = false
  /** Left the in-flight count (finished or abandoned); released once only. */
  released = false
  /** Its place among its partition's units in flight (see InFlightUnits). */
  takenAt = 0
  inFlightPrev: InFlightLink | undefined = undefined
  inFlightNext: InFlightLink | undefined = undefined
  inFlightLinked = false
  readonly #host: UnitHost
  #logger: Logger | undefined

  constructor(
    host: UnitHost,
    run: PartitionRun,
    progress: PartitionProgress,
    lane: string | null,
    record: ConsumerRecord,
    wrapped: ConsumedRecord<unknown>,
  ) {
    this.#host = host
    this.run = run
    this.progress = progress
    this.lane = lane
    this.record = record
    this.wrappedRecord = wrapped
  }

  /** Adds a record to a batch unit (batch handlers). */
  add(record: ConsumerRecord, wrapped: ConsumedRecord<unknown>): void {
    this.#batch ??= { records: [this.record], wrapped: [this.wrappedRecord] }
    this.#batch.records.push(record)
    this.#batch.wrapped.push(wrapped)
  }

  get size(): number {
    return this.#batch ? this.#batch.records.length : 1
  }

  /** The raw records (allocates for a single record: for the cold paths). */
  records(): ConsumerRecord[] {
    return this.#batch ? this.#batch.records : [this.record]
  }

  wrapped(): ConsumedRecord<unknown>[] {
    return this.#batch ? this.#batch.wrapped : [this.wrappedRecord]
  }

  // ── HandlerContext ────────────────────────────────────────────────────────────────────

  get consumerGroup(): ConsumerGroupInfo {
    return this.#host.group
  }

  get topic(): string {
    return this.run.topic.name
  }

  get partition(): number {
    return this.run.partition
  }

  get signal(): AbortSignal {
    return this.run.controller.signal
  }

  get logger(): Logger {
    this.#logger ??= this.#host.logger.child({
      topic: this.topic,
      partition: this.partition,
      offset: this.record.offset,
    })
    return this.#logger
  }

  markAsConsumed(offset: number): void {
    this.#host.markAsConsumed(this.run, offset)
  }

  commit(): Promise<void> {
    return this.#host.commitPartition(this.run)
  }

  pause(): void {
    this.#host.pausePartition(this.run, true)
  }

  resume(): void {
    this.#host.pausePartition(this.run, false)
  }

  seek(offset: number): void {
    this.#host.requestSeek(this.run, offset)
  }
}
