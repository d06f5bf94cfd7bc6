// The inputs and the verdict of scenario B's checker (chaos/share-checker.ts): what the harness
// recorded (deliveries, share events, kills, freezes, broker faults, what Kafka's tools printed)
// and what the checker finds in it.
import type { Delivery, ProcessEnd, TopicRecord } from './checker.ts'

/** A share event a member logged about a record (or an error, maybe about one). */
export interface ShareEvent {
  kind: 'lost' | 'released' | 'rejected' | 'error'
  t: number
  pid: number
  worker: number
  partition?: number
  offset?: number
  deliveryCount?: number
  /** The lost lock's reason, or the error's type and message. */
  detail: string
}

/** A worker process the harness froze (SIGSTOP at `from`, SIGCONT at `to`). */
export interface Freeze {
  pid: number
  worker: number
  from: number
  to: number
}

/** A row of `ShareGroupCommand --describe --offsets`. */
export interface ShareOffset {
  partition: number
  /** null when the tool prints "-". */
  startOffset: number | null
  lag: number | null
}

export interface ShareCheckInput {
  partitions: number
  acknowledged: readonly string[]
  topicRecords: readonly TopicRecord[]
  deliveries: readonly Delivery[]
  events: readonly ShareEvent[]
  ends: readonly ProcessEnd[]
  freezes: readonly Freeze[]
  /** Broker faults: down from `t` for `downMs`. */
  brokerFaults: ReadonlyArray<{ t: number; downMs: number }>
  /** Log end per partition (the sum is the records read back). */
  logEnds: ReadonlyMap<number, number>
  startOffsets: readonly ShareOffset[]
  /** The group's share.delivery.count.limit: the broker archives a record whose delivery at this count ends unaccepted. */
  deliveryCountLimit: number
  /**
   * How long after a handler finishes its accept may still be unapplied: queued until the next
   * request of its share session (a fetch waits up to `maxWaitMs`, 500 ms; continuous style
   * flushes every `commitIntervalMs`, 1 s), then a round trip. See ACK_WINDOW_MS.
   */
  ackWindowMs: number
}

/**
 * The default acknowledgement window: 500 ms fetch wait + 1 s flush interval + 3.5 s for the
 * round trip and the event loop on a loaded machine.
 */
export const ACK_WINDOW_MS = 5_000

export type DuplicateCause = 'kill' | 'freeze' | 'lockLost' | 'brokerFault' | 'unexplained'

/**
 * What a killed (or frozen) member may leave to run again: the records it held whose acceptance
 * had not reached the broker — those **in flight** (started, not finished) at the kill, and those
 * it **finished within the acknowledgement window** before it (their accept may still have been
 * queued). Records it had fetched and not started come back too, but were never run: no duplicate.
 */
export interface ShareProcessDuplicates {
  pid: number
  worker: number
  cause: 'kill' | 'exit' | 'freeze'
  t: number
  inFlight: number
  finishedUnacknowledged: number
  bound: number
  /** Records it had started that another start repeated, charged to this kill or freeze. */
  duplicates: number
  withinBound: boolean
}

export interface Overlap {
  partition: number
  offset: number
  first: { pid: number; start: number; finish: number | null; deliveryCount: number }
  second: { pid: number; start: number; deliveryCount: number }
  /** kill, freeze or lockLost; undefined: unexplained. */
  explainedBy?: 'kill' | 'freeze' | 'lockLost'
}

export interface ShareCheckResult {
  records: number
  acknowledged: number
  acknowledgedMissing: string[]
  producerDuplicates: number
  handled: number
  lost: Array<{ partition: number; offset: number; id: string }>
  deliveries: number
  duplicates: number
  duplicateCauses: Record<DuplicateCause, number>
  processes: ShareProcessDuplicates[]
  killBound: number
  killDuplicates: number
  overlaps: Overlap[]
  /** Finished deliveries of a live member that another member got again, with no lost lock reported. */
  silentRedeliveries: Array<{ pid: number; partition: number; offset: number; deliveryCount: number }>
  /** Per freeze: the frozen member's lost locks reported after it resumed, and records that went to others. */
  freezeEffects: Array<{ pid: number; lostAfterResume: number; movedToOthers: number }>
  rejected: number
  /**
   * Records archived although no handler failed: rejected, or delivered up to the delivery count
   * limit with no finish whose lock held (the broker archives such a record).
   */
  archivedUnhandled: Array<{ partition: number; offset: number }>
  /**
   * Records whose every finish was reported as a lost lock and that never came back: the member
   * could not tell whether its accept was applied (its connection closed first). The broker's lag
   * 0 says it was (a record is archived only at the delivery count limit, which they did not reach).
   */
  unconfirmed: number
  /** Records between the share-partition start offsets and the log ends (done, above the start offset). */
  startOffsetsBehind: number
  maxDeliveryCount: number
  phantom: number
  notAtLogEnd: Array<{
    partition: number
    startOffset: number | null
    lag: number | null
    logEnd: number | null
  }>
  problems: string[]
  ok: boolean
}
