import type { Logger } from 'pino'
import type { ConsumerGroupInfo } from './group-info.ts'

/** What a handler gets besides the record(s). */
export interface HandlerContext {
  /** The Kafka group this member belongs to, and its parallel segment (`segmentId` -1 without segments). */
  consumerGroup: ConsumerGroupInfo
  topic: string
  partition: number
  /** 1 on the first try, 2 on the first retry, … */
  attempt: number
  /**
   * Aborts when this record's work is abandoned: its partition was lost, or the drain after a
   * revocation or during shutdown ran out of time. The record will be redelivered.
   */
  signal: AbortSignal
  /** A child logger bound to group, topic, partition and offset. */
  logger: Logger
  /** Manual offsets: marks records of this partition up to and including `offset` as done. */
  markAsConsumed(offset: number): void
  /**
   * Commits now what is done in this partition (otherwise commits happen every commitIntervalMs).
   * In a share group: sends the acknowledgements queued so far and waits for the broker's answer.
   */
  commit(): Promise<void>
  /**
   * Stops taking new records of this partition until `resume` (running ones finish). Consumer
   * groups only: throws PAUSE_UNSUPPORTED in a share group.
   */
  pause(): void
  resume(): void
  /**
   * Continues this partition from `offset`: records of it already running finish, records
   * taken but not started yet are dropped (a seek back fetches them again), and the next
   * records come from `offset`. Consumer groups only.
   */
  seek(offset: number): void
}
