import type { KafkaConnectionOptions } from '../../kafka/connection-options.ts'
import type { TopicPartition } from '../types.ts'
import type { AcquiredRange } from './acquired-records.ts'
import type { ShareError } from './errors.ts'
import type { SharePartitionCounters } from './share-partition.ts'
import type { AckResult, AcquireMode } from './types.ts'

/** Options of one share-group member. */
export interface ShareConsumerOptions extends KafkaConnectionOptions {
  groupId: string
  /** Topic names to subscribe to. */
  topics: readonly string[]
  rackId?: string
  /** KIP-1206 acquire mode (Kafka ≥ 4.2): `batch_optimized` (default) or `record_limit`. */
  acquireMode?: AcquireMode
  /** Records per fetch, like `max.poll.records` (default 500; soft in batch_optimized mode). */
  maxRecords?: number
  /**
   * How long the broker may hold a fetch open waiting for records (default 500 ms). It also
   * bounds how long an acknowledgement waits: one request at a time per share session.
   */
  maxWaitMs?: number
  /** Bytes the broker waits for before answering (default 1). */
  minBytes?: number
  /** Upper bound of one fetch response (default 50 MiB). */
  maxBytes?: number
  /**
   * Records this member may hold locked per partition at once: buffered plus being processed,
   * not yet acknowledged. Default: the group's `share.partition.max.record.locks` (the broker
   * caps it by `group.share.max.partition.max.record.locks`), 2000 if it cannot be read.
   */
  maxRecordLocks?: number
  /**
   * How long `close()` may spend sending the last acknowledgements and releases (default 30 s);
   * after it the connections are closed, which makes the broker release what is still locked.
   */
  closeTimeoutMs?: number
}

/** Per-partition statistics. */
export interface SharePartitionStats extends TopicPartition, SharePartitionCounters {
  assigned: boolean
  leaderId: number
  /** Acquired, not yet taken. */
  buffered: number
  /** Taken, not yet given a final acknowledgement. */
  processing: number
  /** Locks held (buffered + processing + acknowledgements in flight). */
  held: number
  lockBudget: number
}

export interface ShareConsumerStats {
  memberId: string
  memberEpoch: number
  buffered: number
  partitions: SharePartitionStats[]
  sessions: Array<{
    nodeId: number
    epoch: number
    requests: number
    fetches: number
    acknowledgeRequests: number
  }>
}

export interface ShareConsumerEvents {
  /** The member joined (or rejoined) the group. */
  joined: [{ memberId: string; memberEpoch: number }]
  /** The assignment changed (informational: share partitions are shared, nothing to drain). */
  assignment: [{ partitions: TopicPartition[]; added: TopicPartition[]; removed: TopicPartition[] }]
  /** A ShareFetch came back (with what it acquired). */
  fetched: [ShareFetchEvent]
  /** The broker answered acknowledgements (a ShareFetch carrying them, or a ShareAcknowledge). */
  acknowledged: [ShareAcknowledgedEvent]
  /** Records this member was processing (or had buffered) lost their locks. */
  lock_lost: [{ topic: string; partition: number; offsets: number[]; reason: string }]
  /** A failure the member recovers from by itself. */
  warning: [{ source: 'heartbeat' | 'fetch' | 'acknowledge' | 'session' | 'config'; error: Error }]
  /** The member cannot continue; it closes. */
  fatal: [ShareError]
}

/** A ShareFetch that came back, for statistics and for tests that prove acknowledgement overlap. */
export interface ShareFetchEvent {
  /** Increases with every request the member sends (fetches and acknowledgements). */
  requestSeq: number
  nodeId: number
  sessionEpoch: number
  sentAt: number
  receivedAt: number
  /** Acknowledgements piggybacked on this fetch. */
  acknowledgements: number
  acquired: Array<{ topic: string; partition: number; ranges: AcquiredRange[]; records: number }>
}

/** Acknowledgements the broker answered. */
export interface ShareAcknowledgedEvent {
  requestSeq: number
  nodeId: number
  via: 'ShareFetch' | 'ShareAcknowledge'
  sentAt: number
  receivedAt: number
  results: AckResult[]
}
