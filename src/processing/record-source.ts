import type { AssignedPartition, PartitionRecords, RevokeReason, TopicPartition } from '../engine/types.ts'

/**
 * Where the processing runtime gets records from. The consumer-group member
 * (`engine/group-consumer.ts`) is one; a share-group member is the other kind the design
 * plans. The runtime only takes raw records, waits for more, and steers partitions.
 */
export interface RecordSource {
  /** Joins the group; assignment arrives through {@link SourceAssignmentHooks}. */
  start(): Promise<void>
  /** Up to `max` buffered records, grouped per partition in offset order. */
  takeRecords(max: number): PartitionRecords[]
  /** Resolves when records are buffered, after `timeoutMs`, or on {@link interruptWait}. */
  waitForRecords(timeoutMs: number): Promise<void>
  interruptWait(): void
  /** Stop fetching these partitions (records already buffered stay). */
  pause(partitions: readonly TopicPartition[]): void
  resume(partitions: readonly TopicPartition[]): void
  /** Fetch this partition from `offset` next; buffered records of it are dropped. */
  seek(partition: TopicPartition, offset: number): void
  /** Per-partition fetch statistics for `statistics.emitted`. */
  stats(): SourcePartitionStats[]
  /** Revokes everything (through the hooks) and leaves the group. */
  close(): Promise<void>
}

export interface SourcePartitionStats extends TopicPartition {
  lag: number
  buffered: number
  paused: boolean
}

/** How a source tells the runtime about partitions it gains and loses (both awaited). */
export interface SourceAssignmentHooks {
  onAssigned(partitions: AssignedPartition[]): void | Promise<void>
  onRevoked(partitions: TopicPartition[], reason: RevokeReason): Promise<void>
}
