import { OffsetTable } from '../../engine/offset-table.ts'
import type { AckListener } from '../../engine/share/ack-entry.ts'
import { renewalLeadMs } from '../../engine/share/lock-timing.ts'
import type { AckResult, RecordDelivery, ShareRecord } from '../../engine/share/types.ts'
import { partitionKey } from '../../engine/types.ts'

/**
 * The deliveries the source handed out, by partition key and offset: a share record is
 * acknowledged by its delivery (offset and delivery count), which only the source saw.
 */
export class ShareDeliveries {
  readonly #byPartition = new Map<string, OffsetTable<ShareRecord>>()
  /**
   * When the last records were handed out: their locks' margins are reckoned from it (one clock
   * read per take, not per record; a record tracked later gets a larger margin, renewed sooner).
   */
  handedAt = 0

  /** Remembers records as they are handed to the runtime. */
  handed(records: readonly ShareRecord[]): void {
    this.handedAt = Date.now()
    // A take hands out runs of one partition: its key is built once per run, not per record.
    let topic: string | undefined
    let partition = -1
    let map: OffsetTable<ShareRecord> | undefined
    for (const r of records) {
      if (r.topic !== topic || r.partition !== partition || !map) {
        topic = r.topic
        partition = r.partition
        map = this.#partition(partitionKey(topic, partition))
      }
      map.set(r.offset, r)
    }
  }

  /** The record handed out at `offset`, removed (each delivery is acknowledged once). */
  take(key: string, offset: number): ShareRecord | undefined {
    const map = this.#byPartition.get(key)
    const record = map?.get(offset)
    map?.delete(offset)
    return record
  }

  peek(key: string, offset: number): ShareRecord | undefined {
    return this.#byPartition.get(key)?.get(offset)
  }

  #partition(key: string): OffsetTable<ShareRecord> {
    let map = this.#byPartition.get(key)
    if (!map) {
      map = new OffsetTable()
      this.#byPartition.set(key, map)
    }
    return map
  }
}

/** Who is told the answers to a held record's acknowledgements (its partition's progress). */
export interface HeldOwner {
  answered(held: Held, result: AckResult): void
}

/**
 * How close to `deadline` a lock is renewed: at the earlier of half the time it has left now and
 * a fetch wait plus a second before it. A renewal is asked for on a sweep (every
 * RENEW_SWEEP_MS), then waits for the fetch in flight (up to `maxWaitMs`) before it is sent: a
 * lock of 1–2 s renewed at half its time would be asked for too late.
 */
export function marginOf(deadline: number, maxWaitMs: number, now = Date.now()): number {
  return Math.max(Math.max(0, deadline - now) / 2, renewalLeadMs(maxWaitMs))
}

/**
 * A record being processed here, with its lock. It is its own delivery (what the member
 * acknowledges) and the listener of its acknowledgements (renewals and the final one): an
 * acknowledgement allocates no promise, closure or delivery object of its own.
 */
export class Held implements AckListener, RecordDelivery {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** A snapshot: an adopted record's object is updated to the new delivery, which gets a new Held. */
  readonly deliveryCount: number
  deadline: number
  /** Renew when the deadline is this close. */
  margin: number
  renewing = false
  /** Its lock is lost: no more renewals. */
  lost = false
  /** `share.lock_lost` was emitted for this delivery (once per delivery). */
  reported = false
  /** The partition's count of final acknowledgements sent, this one's included (flush barriers). */
  seq = 0
  readonly #owner: HeldOwner

  /** The lock of a delivery handed out (or adopted) at `now`. */
  constructor(record: ShareRecord, maxWaitMs: number, owner: HeldOwner, now: number) {
    this.topic = record.topic
    this.partition = record.partition
    this.offset = record.offset
    this.deliveryCount = record.deliveryCount
    this.deadline = record.lockDeadline
    // A record taken late in its lock (it waited in the buffer) has little of it left: its first
    // margin is small; each renewal sets the margin again from the full lock it restarted.
    this.margin = marginOf(record.lockDeadline, maxWaitMs, now)
    this.#owner = owner
  }

  acknowledged(result: AckResult): void {
    this.#owner.answered(this, result)
  }
}
