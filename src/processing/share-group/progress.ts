import { renewalLeadMs } from '../../engine/share/lock-timing.ts'
import type { AcknowledgeType, AckResult, RecordDelivery, ShareRecord } from '../../engine/share/types.ts'
import type { AssignedPartition } from '../../engine/types.ts'
import { partitionKey } from '../../engine/types.ts'
import { MultilaneError } from '../../errors.ts'
import type { EventBus } from '../../instrumentation/events.ts'
import type {
  FlushOptions,
  PartitionProgress,
  Progress,
  ProgressPartition,
  RecordOutcome,
} from '../progress.ts'

/** What share progress needs of the share-group member (`engine/share/share-consumer.ts`). */
export interface ShareAcknowledger {
  acknowledge(delivery: RecordDelivery, type: AcknowledgeType): Promise<AckResult>
  flush(): Promise<void>
}

/** How long before a lock's deadline a record is renewed, at most (a renewal may wait a fetch out). */
export interface ShareProgressOptions {
  groupId: string
  events: EventBus
  member: ShareAcknowledger
  /** The member's fetch wait: a renewal can wait that long for the request in flight. */
  maxWaitMs: number
}

/**
 * The deliveries the source handed out, by partition key and offset: a share record is
 * acknowledged by its delivery (offset and delivery count), which only the source saw.
 */
export class ShareDeliveries {
  readonly #byPartition = new Map<string, Map<number, ShareRecord>>()

  /** Remembers records as they are handed to the runtime. */
  handed(records: readonly ShareRecord[]): void {
    for (const r of records) {
      const key = partitionKey(r.topic, r.partition)
      let map = this.#byPartition.get(key)
      if (!map) {
        map = new Map()
        this.#byPartition.set(key, map)
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
}

/** A record being processed here, with its lock. */
interface Held {
  delivery: RecordDelivery
  deadline: number
  /** Renew when the deadline is this close. */
  margin: number
  renewing: boolean
  /** Its lock is lost: no more renewals. */
  lost: boolean
  /** `share.lock_lost` was emitted for this delivery (once per delivery). */
  reported: boolean
}

/**
 * How close to `deadline` a lock is renewed: at the earlier of half the time it has left now and
 * a fetch wait plus a second before it. A renewal is asked for on a sweep (every
 * RENEW_SWEEP_MS), then waits for the fetch in flight (up to `maxWaitMs`) before it is sent: a
 * lock of 1–2 s renewed at half its time would be asked for too late.
 */
function marginOf(deadline: number, maxWaitMs: number): number {
  return Math.max(Math.max(0, deadline - Date.now()) / 2, renewalLeadMs(maxWaitMs))
}

/** The lock of a delivery just handed out. */
function holdOf(record: ShareRecord, maxWaitMs: number): Held {
  // A record taken late in its lock (it waited in the buffer) has little of it left: its first
  // margin is small; each renewal sets the margin again from the full lock it restarted.
  const margin = marginOf(record.lockDeadline, maxWaitMs)
  return {
    delivery: delivery(record),
    deadline: record.lockDeadline,
    margin,
    renewing: false,
    lost: false,
    reported: false,
  }
}

const RENEW_SWEEP_MS = 200

/** A share partition's progress: turns outcomes into acknowledgements and keeps locks alive. */
class SharePartitionProgress implements PartitionProgress {
  readonly target: ProgressPartition
  readonly key: string
  readonly held = new Map<number, Held>()
  /** Final acknowledgements sent and not answered yet (a flush with throwOnError waits for them). */
  readonly acks = new Set<Promise<AckResult>>()
  readonly #owner: ShareProgress

  constructor(owner: ShareProgress, target: ProgressPartition) {
    this.#owner = owner
    this.target = target
    this.key = partitionKey(target.topic, target.partition)
  }

  readonly committedOffset = -1

  shouldSkip(_offset: number): boolean {
    return false
  }

  /** A record that needs no handler: accepted at once. */
  skip(offset: number): void {
    this.track(offset)
    this.finish(offset, 'succeeded')
  }

  track(offset: number): void {
    const record = this.#owner.deliveries.peek(this.key, offset)
    if (!record)
      throw new MultilaneError(
        'PROGRESS_MISMATCH',
        `${this.key}@${offset} was not handed out by the share source`,
      )
    this.held.set(offset, holdOf(record, this.#owner.maxWaitMs))
    this.#owner.watch(this)
  }

  finish(offset: number, outcome: RecordOutcome): void {
    this.#end(offset, ACK_OF[outcome])
  }

  /** Dropped unfinished (revocation, shutdown): released, so another member gets it now. */
  abandon(offset: number): void {
    this.#end(offset, 'release')
  }

  advance(_nextOffset: number): void {}

  /** The member keeps its locks within the broker's per-partition budget itself. */
  intakeAllowance(): number {
    return Number.POSITIVE_INFINITY
  }

  #end(offset: number, type: AcknowledgeType): void {
    const held = this.held.get(offset)
    this.held.delete(offset)
    const record = this.#owner.deliveries.take(this.key, offset)
    if (!held || !record) return
    this.#owner.acknowledge(this, held, type)
  }
}

const ACK_OF: Record<RecordOutcome, AcknowledgeType> = {
  succeeded: 'accept',
  // Produced to the client's dead letter topic: rejected on the broker (archived).
  dead_lettered: 'reject',
  rejected: 'reject',
  released: 'release',
}

function delivery(r: ShareRecord): RecordDelivery {
  return { topic: r.topic, partition: r.partition, offset: r.offset, deliveryCount: r.deliveryCount }
}

/**
 * Share group progress: every outcome becomes an acknowledgement of that delivery — ACCEPT,
 * REJECT (after the dead letter produce too), RELEASE (and abandoned records) — sent with the
 * next request of the record's share session, whichever fetch it came from. Records still
 * being processed (running, queued, or waiting for a retry) have their locks renewed before
 * they expire.
 */
export class ShareProgress implements Progress {
  readonly deliveries = new ShareDeliveries()
  readonly maxWaitMs: number
  readonly #o: ShareProgressOptions
  readonly #watched = new Set<SharePartitionProgress>()
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: ShareProgressOptions) {
    this.#o = options
    this.maxWaitMs = options.maxWaitMs
  }

  open(target: ProgressPartition, _assigned: AssignedPartition): PartitionProgress {
    return new SharePartitionProgress(this, target)
  }

  reposition(_previous: PartitionProgress, _offset: number): PartitionProgress {
    throw new MultilaneError('SEEK_UNSUPPORTED', 'share group records cannot be sought')
  }

  /**
   * Sends the queued acknowledgements now and waits for the answers (bounded by `timeoutMs`).
   * With `throwOnError` (`ctx.commit()`), rejects when a final acknowledgement of `partitions`
   * queued before the flush was not applied (failed, or its lock was lost).
   */
  async flush(partitions: readonly PartitionProgress[], options: FlushOptions = {}): Promise<void> {
    const awaited: Array<Promise<AckResult>> = []
    for (const p of partitions) if (p instanceof SharePartitionProgress) awaited.push(...p.acks)
    const answered = Promise.all([this.#o.member.flush(), Promise.all(awaited)])
    let timer: NodeJS.Timeout | undefined
    let results: AckResult[] | undefined
    try {
      const settled = await (options.timeoutMs === undefined
        ? answered
        : Promise.race([
            answered,
            new Promise<undefined>((resolve) => {
              timer = setTimeout(() => resolve(undefined), options.timeoutMs)
            }),
          ]))
      results = settled?.[1]
    } finally {
      clearTimeout(timer)
    }
    if (!options.throwOnError || !results) return
    const refused = results.filter((r) => r.outcome !== 'ok')
    if (refused.length === 0) return
    const first = refused[0]!
    throw new MultilaneError(
      first.outcome === 'lock_lost' ? 'LOCK_LOST' : 'ACKNOWLEDGE_FAILED',
      `${refused.length} acknowledgement(s) not applied, first ${first.type} of ${first.topic}#${first.partition}@${first.offset} (delivery ${first.deliveryCount}): ${first.outcome}${first.error ? ` (${first.error.message})` : ''}`,
      first.error ? { cause: first.error } : undefined,
    )
  }

  /** Records being processed here, in every partition (revoked ones too, until they end). */
  inProgress(): number {
    let n = 0
    for (const p of this.#watched) n += p.held.size
    return n
  }

  /** Records of `topic` being processed here (taken and not finished: queued, running, retrying). */
  inProgressOf(topic: string): number {
    let n = 0
    for (const p of this.#watched) if (p.target.topic === topic) n += p.held.size
    return n
  }

  /** Resolves when no record is in progress here any more, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.inProgress() > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))))
  }

  /**
   * Releases every record still in progress (the shutdown deadline passed while handlers run):
   * another member gets them now, and each release is reported (`share.released`) like any
   * other. A handler that ends later has nothing left to acknowledge.
   */
  releaseHeld(): void {
    for (const p of this.#watched) {
      for (const [offset, held] of p.held) {
        p.held.delete(offset)
        this.deliveries.take(p.key, offset)
        this.acknowledge(p, held, 'release')
      }
    }
  }

  /**
   * Stops renewing (the member is closing; it releases whatever it still holds). A handler that
   * ends later (past the shutdown deadline) has nothing left to acknowledge.
   */
  close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#watched.clear()
  }

  /**
   * The member lost the locks of these records (a session reset, a lock that expired): those
   * being processed here are reported (once per delivery) and no longer renewed.
   */
  lost(topic: string, partition: number, offsets: readonly number[], reason: string): void {
    const key = partitionKey(topic, partition)
    for (const p of this.#watched) {
      if (p.key !== key) continue
      for (const offset of offsets) {
        const held = p.held.get(offset)
        if (held) this.#lockLost(held, reason)
      }
    }
  }

  /**
   * A new delivery of a record still in progress here: its lock expired (or went with a lost
   * connection) and the broker gave it back to this member. The record is not run a second
   * time: the unit already queued, running or waiting for a retry goes on under the new lock,
   * and its outcome settles this delivery. False when the record is not in progress here.
   */
  adopt(record: ShareRecord): boolean {
    const key = partitionKey(record.topic, record.partition)
    const current = this.deliveries.peek(key, record.offset)
    if (!current) return false
    for (const p of this.#watched) {
      if (p.key !== key || !p.held.has(record.offset)) continue
      // The unit holds this object: it now stands for the new delivery (the failure policy
      // counts deliveries, the handler sees the current count).
      current.deliveryCount = record.deliveryCount
      current.lockDeadline = record.lockDeadline
      p.held.set(record.offset, holdOf(current, this.maxWaitMs))
      return true
    }
    return false
  }

  #lockLost(held: Held, reason: string): void {
    held.lost = true
    held.deadline = Number.POSITIVE_INFINITY
    if (held.reported) return
    held.reported = true
    const d = held.delivery
    this.#o.events.emit('share.lock_lost', {
      consumerGroup: this.#o.groupId,
      topic: d.topic,
      partition: d.partition,
      offset: d.offset,
      deliveryCount: d.deliveryCount,
      reason,
    })
  }

  watch(partition: SharePartitionProgress): void {
    this.#watched.add(partition)
    this.#timer ??= setInterval(() => this.#renewDue(), RENEW_SWEEP_MS)
  }

  acknowledge(partition: SharePartitionProgress, held: Held, type: AcknowledgeType): void {
    const { events, groupId } = this.#o
    if (this.#closed) return
    const d = held.delivery
    const answer = this.#o.member.acknowledge(d, type)
    partition.acks.add(answer)
    void answer.then((result) => {
      partition.acks.delete(answer)
      const base = {
        consumerGroup: groupId,
        topic: d.topic,
        partition: d.partition,
        offset: d.offset,
        deliveryCount: d.deliveryCount,
      }
      if (result.outcome === 'lock_lost') {
        this.#lockLost(held, result.error?.message ?? 'the lock was lost')
      } else if (result.outcome === 'failed') {
        events.emit('error.occurred', {
          type: 'share.acknowledge.error',
          error: result.error ?? new Error(`${type} failed`),
          consumerGroup: groupId,
          topic: d.topic,
          partition: d.partition,
          offset: d.offset,
        })
      } else if (result.outcome === 'ok' && type === 'release') events.emit('share.released', base)
      else if (result.outcome === 'ok' && type === 'reject') events.emit('share.rejected', base)
    })
    if (partition.held.size === 0) this.#watched.delete(partition)
  }

  /** Renews the locks of held records that are close to their deadline. */
  #renewDue(): void {
    const now = Date.now()
    for (const p of this.#watched) {
      if (p.held.size === 0) {
        this.#watched.delete(p)
        continue
      }
      for (const held of p.held.values()) {
        if (held.renewing || held.lost || held.deadline - now > held.margin) continue
        held.renewing = true
        void this.#o.member.acknowledge(held.delivery, 'renew').then((result) => {
          held.renewing = false
          const d = held.delivery
          if (result.outcome === 'ok' && result.lockDeadline !== undefined) {
            held.deadline = result.lockDeadline
            // The renewed lock runs its full duration: renew the next time at half of it (the
            // first margin came from what was left when the record was taken, maybe very little).
            held.margin = marginOf(result.lockDeadline, this.maxWaitMs)
            this.#o.events.emit('share.lock_renewed', {
              consumerGroup: this.#o.groupId,
              topic: d.topic,
              partition: d.partition,
              offset: d.offset,
              deliveryCount: d.deliveryCount,
              lockDeadline: result.lockDeadline,
            })
          } else if (result.outcome === 'lock_lost') {
            // Nothing more to renew: the record may be delivered again, here or elsewhere.
            this.#lockLost(held, result.error?.message ?? 'the lock was lost')
            if (result.lockDeadline !== undefined) {
              // Sent after our deadline, yet the broker renewed it: reported (it may have run
              // elsewhere meanwhile), the lock is still ours and kept until the record ends.
              held.lost = false
              held.deadline = result.lockDeadline
              held.margin = marginOf(result.lockDeadline, this.maxWaitMs)
            }
          } else if (result.outcome === 'failed' && result.error?.code === 'RENEW_UNSUPPORTED') {
            // RENEW unavailable (broker < 4.2, or the group disabled it): the member warned
            // once; stop trying for this record.
            held.deadline = Number.POSITIVE_INFINITY
          }
          // Any other failure (a retriable error that outlasted its attempts): the lock may still
          // be held; the next sweep asks again while the deadline is within the margin.
        })
      }
    }
    if (this.#watched.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}
