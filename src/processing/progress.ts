import type { AssignedPartition } from '../engine/types.ts'

/**
 * What is done in one partition, as the runtime reports it. For a consumer group this is an
 * offset tracker whose state becomes a committed offset plus an offset map
 * (`offset-commit-progress.ts`); a share group would turn the same calls into
 * acknowledgements.
 */
export interface PartitionProgress {
  /** True when the broker already holds `offset` as done; the runtime then calls skip(). */
  shouldSkip(offset: number): boolean
  /** A record that needs no handler (done before, or filtered out): done at once. */
  skip(offset: number): void
  /** A record was handed to processing (for a consumer group, offsets strictly increase per partition). */
  track(offset: number): void
  /** A tracked record finished: handled, dead-lettered, or marked by manual offsets. */
  complete(offset: number): void
  /** The offset the broker holds for the partition, -1 when none (statistics). */
  readonly committedOffset: number
}

/** What the runtime needs to know about a partition to report its progress. */
export interface ProgressPartition {
  topic: string
  partition: number
  /** Stop (true) or resume (false) taking new records of the partition, e.g. near a size limit. */
  holdIntake(held: boolean): void
}

/**
 * Reports progress to Kafka: commits for a consumer group, acknowledgements for a share
 * group. The runtime calls flush() on its commit interval, after each blocking poll, on
 * revocation and on shutdown; it never reports anything itself.
 */
export interface Progress {
  /** Progress of a newly assigned partition, restored from what the broker holds. */
  open(partition: ProgressPartition, assigned: AssignedPartition): PartitionProgress
  /** Progress after a seek: everything from `offset` on is undone. */
  reposition(previous: PartitionProgress, offset: number): PartitionProgress
  /** Sends what is done in these partitions to the broker; failures are reported as events. */
  flush(partitions: readonly PartitionProgress[]): Promise<void>
}
