import type { EventEmitter } from 'node:events'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import type { ShareConsumerEvents } from './share-consumer-types.ts'
import type { SharePartition } from './share-partition.ts'
import type { AcquireMode } from './types.ts'

/** Fetch sizing of the share member. */
export interface ShareFetchOptions {
  /** Records per fetch (`max.poll.records`; a soft limit in batch_optimized mode). Default 500. */
  maxRecords: number
  /** How long the broker may hold a fetch waiting for records. Default 500 ms. */
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  acquireMode: AcquireMode
}

/** What a session needs from its member. */
export interface SessionHost {
  readonly groupId: string
  readonly memberId: string
  readonly fetch: ShareFetchOptions
  readonly cluster: KafkaCluster
  /** Partitions whose leader is this node: assigned ones, and unassigned ones still holding locks. */
  partitionsLedBy(nodeId: number): SharePartition[]
  partitionById(topicId: string, partition: number): SharePartition | undefined
  /** True when the member may RENEW locks (the group did not disable it). */
  renewEnabled(): boolean
  /** Records buffered across the member (record_limit fetches only when none are). */
  totalBuffered(): number
  /**
   * record_limit: the application waits for records (and none are buffered) since the last
   * fetch that acquired some. Fetching only then is what "no fetch ahead" means: a blocking
   * loop holds no locks beyond the poll it processes.
   */
  wantsRecords(): boolean
  /**
   * How many records the application could start now (what its last take asked for). Without
   * lock renewal the member fetches no more: a record must start before its lock ends.
   */
  demand(): number
  /** The acquisition lock duration a fetch reported (the member warns once when too short). */
  lockDuration(ms: number): void
  nextRequestSeq(): number
  recordsAdded(): void
  leadersStale(): void
  /**
   * The member's own events (`fetched`, `acknowledged`, `lock_lost`, `warning`): a session emits
   * them as the member would, instead of a forwarding callback each.
   */
  readonly events: Pick<EventEmitter<ShareConsumerEvents>, 'emit'>
  fatal(error: Error): void
  /** Sessions wake the member's flush waiters after each request. */
  requestDone(): void
}
