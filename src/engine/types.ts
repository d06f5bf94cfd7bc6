/**
 * The engine's interface to the processing layer: raw records handed over per partition,
 * partition control (pause/resume/seek), the assignment hooks, and commits.
 */

/** A topic-partition. */
export interface TopicPartition {
  topic: string
  partition: number
}

/** A record as fetched: metadata and raw bytes, nothing deserialized. */
export interface ConsumerRecord {
  topic: string
  partition: number
  offset: number
  /** Milliseconds since the epoch (create time, or log-append time when the topic uses it). */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  /** Headers in wire order (duplicates kept). */
  headers: Array<[Buffer | null, Buffer | null]>
  leaderEpoch: number
}

/** Records of one partition, in offset order. */
export interface PartitionRecords {
  topic: string
  partition: number
  /** May be empty: a take can report only that the position passed gaps (see `nextOffset`). */
  records: ConsumerRecord[]
  /**
   * Every offset below this was handed over (now or before) or is a gap: a transaction marker,
   * an aborted or a compacted record. Progress may count the gaps as done.
   */
  nextOffset: number
}

/**
 * How many of `wanted` records of a partition (by {@link partitionKey}) the taker accepts in
 * this take. The source asks only for records it holds, then takes exactly the number returned
 * (clamped to [0, wanted]); it may ask again for the same partition later in the same take.
 */
export type IntakeLimit = (partitionKey: string, wanted: number) => number

/** A partition newly owned by this member, with where consumption starts. */
export interface AssignedPartition extends TopicPartition {
  /** The first offset that will be fetched. */
  position: number
  /** What the group had committed (null: nothing; the position came from `autoOffsetReset`). */
  committed: { offset: number; metadata: string | null } | null
}

/** Why partitions are being taken away. */
export type RevokeReason =
  /** The coordinator moved them to another member: drain and commit, then they are released. */
  | 'revoked'
  /** This member was fenced or timed out: they already belong to someone else; do not commit. */
  | 'lost'
  /** The consumer is closing: drain and commit, then leave. */
  | 'closing'

export interface RevokeContext {
  reason: RevokeReason
  /** Fires when the engine stops waiting (revokeTimeoutMs); work still running is abandoned. */
  signal: AbortSignal
}

/** Hooks the processing layer installs; `onAssigned` and `onRevoked` are awaited by the engine. */
export interface AssignmentHooks {
  /**
   * Called before records of these partitions are fetched. A throw refuses them: the member
   * stops with a fatal error (`ASSIGNMENT_REFUSED`) instead of retrying.
   */
  onAssigned?(partitions: AssignedPartition[]): void | Promise<void>
  /**
   * Called after fetching of these partitions stopped and their buffered records were
   * dropped, before the revocation is acknowledged to the coordinator (bounded by
   * `revokeTimeoutMs`).
   */
  onRevoked?(partitions: TopicPartition[], context: RevokeContext): void | Promise<void>
  /**
   * Called synchronously when the engine moved a partition's position on its own (an offset
   * reset after OFFSET_OUT_OF_RANGE, or log truncation): records taken before are from the old
   * position; no record of the new one has been handed over yet. A throw is fatal.
   */
  onPositionReset?(reset: PositionReset): void
}

/** A position the engine moved on its own; see {@link AssignmentHooks.onPositionReset}. */
export interface PositionReset extends TopicPartition {
  from: number
  to: number
  /** `offset_reset`: OFFSET_OUT_OF_RANGE, moved by `autoOffsetReset`; `truncation`: the leader's log diverged below the position. */
  reason: 'offset_reset' | 'truncation'
  /** The `autoOffsetReset` policy applied (offset resets only). */
  policy?: 'earliest' | 'latest'
}

/** One partition's offset to commit. */
export interface OffsetToCommit extends TopicPartition {
  /** The next offset to consume (every record below it is done). */
  offset: number
  /** Stored with the offset (multilane's offset map and routing fingerprint). */
  metadata?: string | null
  leaderEpoch?: number
}

/** Stable key of a topic-partition for maps. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}
