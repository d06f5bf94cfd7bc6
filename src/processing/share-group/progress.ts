import { OffsetTable } from '../../engine/offset-table.ts'
import type { AckListener } from '../../engine/share/ack-entry.ts'
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
import { ShareAnswers } from './answers.ts'
import { FlushBarrier } from './flush-barrier.ts'
import { Held, type HeldOwner, ShareDeliveries } from './held.ts'

export { ShareDeliveries } from './held.ts'

/** What share progress needs of the share-group member (`engine/share/share-consumer.ts`). */
export interface ShareAcknowledger {
  /** Queues the acknowledgement; tells `listener` the answer once, never from inside this call. */
  acknowledge(delivery: RecordDelivery, type: AcknowledgeType, listener: AckListener): void
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

const RENEW_SWEEP_MS = 200

/** A share partition's progress: turns outcomes into acknowledgements and keeps locks alive. */
class SharePartitionProgress implements PartitionProgress, HeldOwner {
  readonly target: ProgressPartition
  readonly key: string
  /** Records in progress here, by offset. */
  readonly held = new OffsetTable<Held>()
  /** Final acknowledgements sent so far; the latest one's `seq`. */
  sent = 0
  /** Final acknowledgements sent and not answered yet (a flush with throwOnError waits for them). */
  unanswered = 0
  /** Flushes waiting for answers (usually none). */
  barriers: FlushBarrier[] = []
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
    this.held.set(offset, new Held(record, this.#owner.maxWaitMs, this, this.#owner.deliveries.handedAt))
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

  /** The member's answer to one of `held`'s acknowledgements. */
  answered(held: Held, result: AckResult): void {
    if (result.type === 'accept' && result.outcome === 'ok') {
      // The common case, told from inside the member's response handling: counted at once,
      // nothing to report.
      this.#answeredFinal(held, result)
      return
    }
    // Anything else emits events or changes locks: in a microtask, so that no event listener
    // runs inside the member's response handling.
    queueMicrotask(() => {
      if (result.type === 'renew') this.#owner.answers.renewed(held, result)
      else {
        this.#owner.answers.final(held, result)
        this.#answeredFinal(held, result)
      }
    })
  }

  #answeredFinal(held: Held, result: AckResult): void {
    this.unanswered--
    if (this.barriers.length === 0) return
    this.barriers = this.barriers.filter((b) => !b.answered(held.seq, result))
  }
}

const ACK_OF: Record<RecordOutcome, AcknowledgeType> = {
  succeeded: 'accept',
  // Produced to the client's dead letter topic: rejected on the broker (archived).
  dead_lettered: 'reject',
  rejected: 'reject',
  released: 'release',
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
  /** What the member's answers report. */
  readonly answers: ShareAnswers
  readonly #o: ShareProgressOptions
  readonly #watched = new Set<SharePartitionProgress>()
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: ShareProgressOptions) {
    this.#o = options
    this.maxWaitMs = options.maxWaitMs
    this.answers = new ShareAnswers(options)
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
    const barriers: Array<{ p: SharePartitionProgress; b: FlushBarrier }> = []
    for (const p of partitions) {
      if (!(p instanceof SharePartitionProgress) || p.unanswered === 0) continue
      const b = new FlushBarrier(p.sent, p.unanswered)
      p.barriers.push(b)
      barriers.push({ p, b })
    }
    const answered = Promise.all([this.#o.member.flush(), Promise.all(barriers.map(({ b }) => b.done))])
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
      results = settled?.[1].flat()
    } finally {
      clearTimeout(timer)
      // Timed out: the barriers still waiting are dropped.
      for (const { p, b } of barriers)
        if (p.barriers.includes(b)) p.barriers = p.barriers.filter((x) => x !== b)
    }
    if (!options.throwOnError || !results) return
    const refused = results
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
      p.held.forEach((held, offset) => {
        p.held.delete(offset)
        this.deliveries.take(p.key, offset)
        this.acknowledge(p, held, 'release')
      })
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
        if (held) this.answers.lockLost(held, reason)
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
    return this.#adopt(partitionKey(record.topic, record.partition), record)
  }

  /**
   * `records` (of one partition, by its key) without those adopted (see {@link adopt}): the
   * same array when none was (the usual case: looked up, nothing allocated).
   */
  notAdopted(key: string, records: ShareRecord[]): ShareRecord[] {
    let out: ShareRecord[] | undefined
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      if (!this.#adopt(key, r)) out?.push(r)
      else out ??= records.slice(0, i)
    }
    return out ?? records
  }

  #adopt(key: string, record: ShareRecord): boolean {
    const current = this.deliveries.peek(key, record.offset)
    if (!current) return false
    for (const p of this.#watched) {
      if (p.key !== key || !p.held.has(record.offset)) continue
      // The unit holds this object: it now stands for the new delivery (the failure policy
      // counts deliveries, the handler sees the current count).
      current.deliveryCount = record.deliveryCount
      current.lockDeadline = record.lockDeadline
      p.held.set(record.offset, new Held(current, this.maxWaitMs, p, Date.now()))
      return true
    }
    return false
  }

  watch(partition: SharePartitionProgress): void {
    this.#watched.add(partition)
    this.#timer ??= setInterval(() => this.#renewDue(), RENEW_SWEEP_MS)
  }

  acknowledge(partition: SharePartitionProgress, held: Held, type: AcknowledgeType): void {
    if (this.#closed) return
    held.seq = ++partition.sent
    partition.unanswered++
    this.#o.member.acknowledge(held, type, held)
    // A partition left with nothing in progress stays watched until the next sweep drops it:
    // dropped here and watched again by the next record, the Set grew and shrank per record.
  }

  /** Renews the locks of held records that are close to their deadline. */
  #renewDue(): void {
    const now = Date.now()
    for (const p of this.#watched) {
      if (p.held.size === 0) {
        this.#watched.delete(p)
        continue
      }
      p.held.forEach((held) => {
        if (held.renewing || held.lost || held.deadline - now > held.margin) return
        held.renewing = true
        this.#o.member.acknowledge(held, 'renew', held)
      })
    }
    if (this.#watched.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}
