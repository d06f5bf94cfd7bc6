import type {
  AssignedPartition,
  IntakeLimit,
  PartitionRecords,
  PositionReset,
  RevokeReason,
  TopicPartition,
} from '../engine/types.ts'

/**
 * Where the processing runtime gets records from: the consumer-group member
 * (`engine/group-consumer.ts`) or a share-group member. The runtime takes raw records, waits
 * for more, and reads statistics; steering partitions (pause, resume, seek) is a consumer-group
 * capability a source may lack.
 */
export interface RecordSource {
  /** Joins the group; assignment arrives through {@link SourceHooks}. */
  start(): Promise<void>
  /**
   * Up to `max` buffered records, grouped per partition in offset order; `limit` caps each
   * partition's share (the runtime's budgets). An entry may carry no records, only a
   * `nextOffset` past gaps.
   */
  takeRecords(max: number, limit: IntakeLimit): PartitionRecords[]
  /**
   * Resolves when records are buffered for a partition the last take did not refuse, after
   * `timeoutMs`, or on {@link interruptWait}. Never resolves at once repeatedly while nothing
   * can be taken (a closed source waits out the timeout).
   */
  waitForRecords(timeoutMs: number): Promise<void>
  interruptWait(): void
  /** Stop fetching these partitions (records already buffered stay). */
  pause?(partitions: readonly TopicPartition[]): void
  resume?(partitions: readonly TopicPartition[]): void
  /** Fetch this partition from `offset` next; buffered records of it are dropped. */
  seek?(partition: TopicPartition, offset: number): void
  /** Per-partition fetch statistics for `statistics.emitted`. */
  stats(): SourcePartitionStats[]
  /** Revokes everything (through the hooks) and leaves the group. */
  close(): Promise<void>
}

export interface SourcePartitionStats extends TopicPartition {
  /** -1 when the source cannot know (a share group). */
  lag: number
  buffered: number
  paused: boolean
  /** Share groups: records locked by this member in the partition. */
  locks?: number
}

/** How a source tells the runtime about partitions it gains and loses, and about failures. */
export interface SourceHooks {
  /** Awaited before the partitions' records are fetched; a throw refuses them (fatal). */
  onAssigned(partitions: AssignedPartition[]): void | Promise<void>
  /** Awaited before the revocation is acknowledged (`lost`: they belong to another member already). */
  onRevoked(partitions: TopicPartition[], reason: RevokeReason): Promise<void>
  /** The source moved a partition's position on its own (offset reset, log truncation). */
  onPositionReset(reset: PositionReset): void
  /** The source cannot continue (a fatal membership error, a refused assignment). */
  onFatal(error: Error): void
}
