import type { AssignedPartition } from '../engine/types.ts'

/**
 * How a record the runtime tracked ended. A consumer group counts every outcome but `released`
 * as done (its failure policy never releases); a share group turns them into acknowledgements
 * (ACCEPT, ACCEPT after the dead letter produce, REJECT, RELEASE).
 */
export type RecordOutcome = 'succeeded' | 'dead_lettered' | 'rejected' | 'released'

/**
 * What is done in one partition, as the runtime reports it. For a consumer group this is an
 * offset tracker whose state becomes a committed offset plus an offset map
 * (`consumer-group/offset-commit-progress.ts`); a share group turns the same calls into acknowledgements.
 */
export interface PartitionProgress {
  /** True when the broker already holds `offset` as done; the runtime then calls skip(). */
  shouldSkip(offset: number): boolean
  /** A record that needs no handler (done before, or filtered out): done at once. */
  skip(offset: number): void
  /** A record was handed to processing (for a consumer group, offsets strictly increase per partition). */
  track(offset: number): void
  /** A tracked record finished: handled, dead-lettered, rejected or released. */
  finish(offset: number, outcome: RecordOutcome): void
  /**
   * A tracked record was dropped unfinished (revocation, shutdown, seek): it must be delivered
   * again. A consumer group leaves it uncommitted; a share group releases it.
   */
  abandon(offset: number): void
  /**
   * The source moved past `nextOffset - 1` without handing over the offsets in between
   * (transaction markers, aborted or compacted records): they are gaps, not records.
   */
  advance(nextOffset: number): void
  /**
   * How many more records of this partition may be taken now: 0 while intake is held (an
   * offset map near its size limit, the window above the lowest unfinished record full).
   */
  intakeAllowance(): number
  /** The offset the broker holds for the partition, -1 when none (statistics). */
  readonly committedOffset: number
}

/** What the runtime tells a progress about a partition. */
export interface ProgressPartition {
  topic: string
  partition: number
  /** The allowance went up after being 0 (a held partition may take records again). */
  intakeFreed(): void
}

/**
 * Reports progress to Kafka: commits for a consumer group, acknowledgements for a share
 * group. The runtime calls flush() on its commit interval, after each blocking poll, on
 * revocation and on shutdown; it never reports anything itself.
 */
export interface Progress {
  /** Progress of a newly assigned partition, restored from what the broker holds. */
  open(partition: ProgressPartition, assigned: AssignedPartition): PartitionProgress
  /**
   * Progress from `offset` on, after a seek or a position reset. After a seek, the records
   * left unfinished in `previous` are given up (the user moved on). After a reset
   * (`keepUnfinished`), those below `offset` still run and will not be fetched again: the
   * partition's commits stay below them until they finish.
   */
  reposition(previous: PartitionProgress, offset: number, keepUnfinished?: boolean): PartitionProgress
  /**
   * Sends what is done in these partitions to the broker; failures are reported as events
   * (and thrown with `throwOnError`). Gives up after `timeoutMs` when given (shutdown),
   * reporting that too.
   */
  flush(partitions: readonly PartitionProgress[], options?: FlushOptions): Promise<void>
}

export interface FlushOptions {
  timeoutMs?: number
  /** Reject when the report failed (a handler's `ctx.commit()` must know). */
  throwOnError?: boolean
}
