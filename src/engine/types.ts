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
  records: ConsumerRecord[]
}

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

/** Hooks the processing layer installs; both are awaited by the engine. */
export interface AssignmentHooks {
  /** Called before records of these partitions are fetched. */
  onAssigned?(partitions: AssignedPartition[]): void | Promise<void>
  /**
   * Called after fetching of these partitions stopped and their buffered records were
   * dropped, before the revocation is acknowledged to the coordinator (bounded by
   * `revokeTimeoutMs`).
   */
  onRevoked?(partitions: TopicPartition[], context: RevokeContext): void | Promise<void>
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
