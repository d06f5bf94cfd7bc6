import type { ConsumerRecord, TopicPartition } from '../types.ts'
import type { ShareError } from './errors.ts'

/**
 * How a record is acknowledged: `accept` (done), `release` (give it back: any member may get it
 * again, with a higher delivery count), `reject` (never deliver again: archived, or to the
 * broker's DLQ on Kafka ≥ 4.4), `renew` (keep it: restart its acquisition lock; Kafka ≥ 4.2).
 */
export type AcknowledgeType = 'accept' | 'release' | 'reject' | 'renew'

/**
 * KIP-1206: `batch_optimized` lets the broker return whole batches (more than `maxRecords`
 * possible) and the member fetch ahead; `record_limit` caps every fetch at `maxRecords` and
 * fetches only when nothing is buffered. Needs ShareFetch v2 (Kafka ≥ 4.2); older brokers
 * always behave as batch_optimized.
 */
export type AcquireMode = 'batch_optimized' | 'record_limit'

/** A record acquired by this member: the consumer-group record shape plus share metadata. */
export interface ShareRecord extends ConsumerRecord {
  /** How many times the record has been delivered, this delivery included (1 the first time). */
  deliveryCount: number
  /**
   * When the acquisition lock expires unless renewed (ms since the epoch): the time the fetch
   * was sent plus the lock timeout the broker returned, so never later than the broker's own
   * deadline. Renewals move it; `ShareConsumer.lockDeadline(record)` has the current value.
   */
  lockDeadline: number
}

/** Records of one partition, in offset order. */
export interface ShareRecords extends TopicPartition {
  records: ShareRecord[]
}

/** What identifies one delivery of a record (a record re-acquired later is another delivery). */
export interface RecordDelivery extends TopicPartition {
  offset: number
  deliveryCount: number
}

/**
 * - `ok`: the broker applied it.
 * - `lock_lost`: the lock was gone (timed out, the connection or leader changed, or the broker
 *   said INVALID_RECORD_STATE): the record may be delivered again, to any member.
 * - `failed`: not applied (see `error`); the lock may still be held until it times out.
 * - `superseded`: a later acknowledgement of the same delivery replaced it before it was sent.
 */
export type AckOutcome = 'ok' | 'lock_lost' | 'failed' | 'superseded'

/** The result of one record's acknowledgement. */
export interface AckResult extends RecordDelivery {
  type: AcknowledgeType
  outcome: AckOutcome
  error?: ShareError
  /**
   * For a renewal the broker applied: the new lock deadline (ms since the epoch). Also on a
   * renewal settled `lock_lost` because it was sent after the member's deadline yet answered
   * ok: the record may have run elsewhere, but the lock is held again until then.
   */
  lockDeadline?: number
}
