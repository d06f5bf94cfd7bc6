import { OffsetTable } from '../offset-table.ts'
import { partitionKey } from '../types.ts'
import {
  type AckEntry,
  type AckListener,
  type AckUnit,
  entry,
  entryResult,
  listen,
  lockLostError,
  notifyWaiters,
  Resolver,
  refusedAck,
  tell,
  tellLater,
} from './ack-entry.ts'
import { AcquiredBuffer } from './acquired-buffer.ts'
import { ShareError } from './errors.ts'
import type { Held } from './held-lock.ts'
import { countAcknowledged, newCounters, type SharePartitionCounters } from './share-partition-counters.ts'
import type { AcknowledgeType, AckOutcome, AckResult, RecordDelivery, ShareRecord } from './types.ts'

export type { AckEntry, AckListener, AckUnit } from './ack-entry.ts'
export type { SharePartitionCounters } from './share-partition-counters.ts'

const isRenew = (e: AckEntry) => e.type === 'renew'

/** Attempts before an acknowledgement refused with a retriable error is reported as failed. */
const MAX_ACK_ATTEMPTS = 5

/**
 * The member's state of one share partition: acquired records not yet taken (the buffer),
 * every offset it holds a lock on, and acknowledgements queued per offset. Pure bookkeeping:
 * the session sends what `nextUnit` gives and reports back through `settle`.
 */
export class SharePartition {
  readonly topic: string
  readonly partition: number
  readonly key: string
  topicId = ''
  leaderId = -1
  /** In the member's current assignment (fetch it); held records are still acknowledged when not. */
  assigned = false
  /**
   * The taker's limit refused this partition's records in the last take that asked: they do not
   * count as records to wake the taker for (it cannot take them) until a take grants some again.
   */
  refused = false
  /** Records this member may hold locked at once (group config share.partition.max.record.locks). */
  lockBudget: number
  readonly counters: SharePartitionCounters = newCounters()
  /** Acquired, not yet taken (and records since taken or released: skipped when read). */
  readonly #buffer = new AcquiredBuffer()
  #untaken = 0
  /** Indexed by offset (one lock taken and given back per record): see OffsetTable. */
  readonly #held = new OffsetTable<Held>()
  /** Acknowledgements queued for the next request, by offset (emptied by each request). */
  readonly #pending = new OffsetTable<AckEntry>()
  readonly #retry: AckUnit[] = []
  #inFlight = 0

  constructor(topic: string, partition: number, lockBudget: number) {
    this.topic = topic
    this.partition = partition
    this.key = partitionKey(topic, partition)
    this.lockBudget = lockBudget
  }

  /** Acquired records waiting in the buffer. */
  get buffered(): number {
    return this.#untaken
  }

  /** Offsets locked by this member (buffered, being processed, or with an acknowledgement in flight). */
  get held(): number {
    return this.#held.size
  }

  /** Handed out and not yet given a final acknowledgement. */
  get processing(): number {
    let n = 0
    this.#held.forEach((h) => {
      if (h.taken && !h.final) n++
    })
    return n
  }

  /** How many more records may be acquired without passing the lock budget. */
  get room(): number {
    return Math.max(0, this.lockBudget - this.#held.size)
  }

  /** Units handed to a request and not answered yet. */
  get inFlightUnits(): number {
    return this.#inFlight
  }

  hasAcks(): boolean {
    return this.#pending.size > 0 || this.#retry.length > 0
  }

  /** True when the next unit holds a RENEW (it can only travel in a ShareAcknowledge). */
  hasRenew(): boolean {
    const retry = this.#retry[0]
    return retry ? retry.some(isRenew) : this.#pending.some(isRenew)
  }

  /** Nothing held and nothing to send: the partition needs no session any more. */
  isIdle(): boolean {
    return this.#held.size === 0 && !this.hasAcks()
  }

  /** The current lock deadline of a delivery, or undefined when its lock is no longer held. */
  lockDeadline(offset: number, deliveryCount: number): number | undefined {
    const h = this.#held.get(offset)
    return h && h.deliveryCount === deliveryCount ? h.deadline : undefined
  }

  /**
   * Adds what a fetch acquired. Returns offsets of earlier deliveries it replaces: their locks
   * expired and the broker gave the records to this member again (with a higher delivery
   * count), so acknowledging the earlier delivery is no longer possible.
   */
  addAcquired(records: readonly ShareRecord[], gaps: readonly number[], lockMs = 0): number[] {
    const replaced: number[] = []
    for (const record of records) {
      const previous = this.#held.get(record.offset)
      if (previous) {
        replaced.push(record.offset)
        if (!previous.taken && !previous.final) this.#untaken--
        // The earlier delivery's acknowledgement, queued or waiting to be resent after a split:
        // the wire has no delivery count, so sent now it would apply to the new delivery.
        this.#dropAcknowledgements(record.offset)
        this.counters.lockLost++
      }
      this.#held.set(record.offset, {
        deliveryCount: record.deliveryCount,
        deadline: record.lockDeadline,
        lockMs,
        taken: false,
        final: false,
      })
      this.#buffer.push(record)
      this.#untaken++
    }
    for (const offset of gaps) this.#queue(entry({ offset, deliveryCount: -1 }, 'gap'))
    this.counters.acquired += records.length
    this.counters.gaps += gaps.length
    return replaced
  }

  /**
   * Takes up to `max` buffered records in offset order. Records whose lock deadline has passed
   * are not handed out: they are released instead and returned in `expired`.
   */
  take(max: number, now: number): { records: ShareRecord[]; expired: number[] } {
    const records: ShareRecord[] = []
    const expired: number[] = []
    while (records.length < max) {
      const record = this.#buffer.shift()
      if (!record) break
      const h = this.#held.get(record.offset)
      if (!h || h.deliveryCount !== record.deliveryCount || h.taken || h.final) continue
      this.#untaken--
      if (h.deadline <= now) {
        h.final = true
        this.#queue(entry(record, 'release'))
        expired.push(record.offset)
        continue
      }
      h.taken = true
      // Renewed while buffered: the record carries its current deadline.
      record.lockDeadline = h.deadline
      records.push(record)
    }
    this.counters.delivered += records.length
    this.#buffer.compact()
    return { records, expired }
  }

  /**
   * Queues a RENEW for buffered records whose lock gets within `marginMs` or half its duration
   * (whichever comes first) of its deadline: fetched ahead, they may wait in the buffer longer than a lock while the
   * application is busy, and a lock that expires there costs the record a delivery (the broker
   * archives it at the group's delivery count limit, never processed). Returns how many.
   */
  renewBuffered(now: number, marginMs: number): number {
    let n = 0
    // forEach, not `for (const [offset, h] of …)`: the session looks after every request, over
    // every held record, and the entries iterator allocates an array per record each time (a
    // member over a backlog allocated ~7 MB/s here, and V8 grew its heap by 100 MB to match).
    this.#held.forEach((h, offset) => {
      if (h.taken || h.final || this.#pending.has(offset)) return
      // The earlier of half the lock and the margin: a short lock renewed at half its time
      // would be renewed too late (the session looks again only after its next request).
      const margin = h.lockMs > 0 ? Math.max(h.lockMs / 2, marginMs) : marginMs
      if (h.deadline - now > margin) return
      this.#queue(entry({ offset, deliveryCount: h.deliveryCount }, 'renew'))
      n++
    })
    return n
  }

  /** Queues an acknowledgement of one delivery; resolves as {@link acknowledgeTo} tells. */
  acknowledge(delivery: RecordDelivery, type: AcknowledgeType): Promise<AckResult> {
    return new Promise((resolve) => this.acknowledgeTo(delivery, type, new Resolver(resolve)))
  }

  /**
   * Queues an acknowledgement of one delivery and tells `listener` the result once, never from
   * inside this call: at once (lock_lost, or failed with ALREADY_ACKNOWLEDGED) when it cannot be
   * sent, otherwise when the broker answered.
   */
  acknowledgeTo(delivery: RecordDelivery, type: AcknowledgeType, listener: AckListener): void {
    const h = this.#held.get(delivery.offset)
    if (!h || h.deliveryCount !== delivery.deliveryCount || h.final) {
      tellLater(
        listener,
        refusedAck(this, delivery, type, h ? h.final && h.deliveryCount === delivery.deliveryCount : false),
      )
      return
    }
    const existing = this.#pending.get(delivery.offset)
    if (type === 'renew') {
      // A renewal already queued for it: this one is answered with it.
      if (existing) listen(existing, listener)
      else this.#queue(entry(delivery, 'renew', listener))
      return
    }
    if (!h.taken) this.#untaken--
    h.taken = true
    h.final = true
    if (existing) this.#dropPending(delivery.offset, 'superseded')
    this.#queue(entry(delivery, type, listener))
  }

  /** The acknowledgements to send next: a unit split after a failure first, else all queued. */
  nextUnit(): AckUnit | undefined {
    let unit = this.#retry.shift()
    if (!unit) {
      if (this.#pending.size === 0) return undefined
      unit = this.#pending.drain()
    }
    this.#inFlight++
    // Sent now, after the lock's deadline (the member was frozen, or the event loop stalled): the
    // broker may have given the record to another member, and answers an acknowledgement of a
    // record it already moved past with no error.
    const now = Date.now()
    for (const e of unit) {
      const h = e.type === 'gap' ? undefined : this.#held.get(e.offset)
      if (h && h.lockMs > 0 && h.deliveryCount === e.deliveryCount && h.deadline <= now) e.late = true
    }
    return unit
  }

  /**
   * Puts a unit back unsent (the request never reached the broker, or the broker refused the
   * whole request before applying anything). A newer acknowledgement of the same offset wins.
   */
  requeue(unit: AckUnit): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1)
    for (const e of unit) {
      if (this.#pending.has(e.offset)) notifyWaiters(e, this, 'superseded')
      else this.#pending.set(e.offset, e)
    }
  }

  /**
   * Applies the broker's answer for a unit and returns the results (GAPs left out). `error` is
   * the partition's error name (undefined for success); `retriable` says whether sending the
   * unit again may succeed; `renewDeadline` is the new lock deadline of renewed records.
   */
  settle(
    unit: AckUnit,
    answer:
      | { kind: 'ok'; renewDeadline: number }
      | { kind: 'invalid_record_state'; error: ShareError }
      | { kind: 'lock_lost'; error: ShareError }
      | { kind: 'retry'; error: ShareError }
      | { kind: 'failed'; error: ShareError },
  ): AckResult[] {
    this.#inFlight = Math.max(0, this.#inFlight - 1)
    if (answer.kind === 'invalid_record_state' && unit.length > 1) {
      // The broker rolled the whole unit back: find the offsets at fault by halves, so the
      // acknowledgements that were valid still get applied.
      const half = Math.ceil(unit.length / 2)
      this.#retry.push(unit.slice(0, half), unit.slice(half))
      return []
    }
    if (answer.kind === 'retry') {
      const again = unit.filter((e) => ++e.attempts < MAX_ACK_ATTEMPTS)
      if (again.length > 0) this.#retry.push(again)
      const exhausted = unit.filter((e) => e.attempts >= MAX_ACK_ATTEMPTS)
      const error = new ShareError(
        'ACKNOWLEDGE_FAILED',
        `${answer.error.message} (${MAX_ACK_ATTEMPTS} attempts)`,
        {
          cause: answer.error,
          kafkaError: answer.error.kafkaError,
        },
      )
      const out: AckResult[] = []
      for (const e of exhausted) this.#finish(e, 'failed', out, error)
      return out
    }
    const outcome: AckOutcome =
      answer.kind === 'ok' ? 'ok' : answer.kind === 'failed' ? 'failed' : 'lock_lost'
    const error = answer.kind === 'ok' ? undefined : answer.error
    const deadline = answer.kind === 'ok' ? answer.renewDeadline : undefined
    // Into one array: a result per record, no array per record around it.
    const out: AckResult[] = []
    for (const e of unit) this.#finish(e, outcome, out, error, deadline)
    return out
  }

  /**
   * The member lost every lock here (its share session's connection closed, the leader moved,
   * or it was fenced for good): buffered records are dropped and queued acknowledgements
   * settle as lock_lost. Returns the offsets that were being processed and the results.
   */
  loseAll(reason: string): { processing: number[]; results: AckResult[] } {
    const error = lockLostError(this, undefined, reason)
    const processing: number[] = []
    this.#held.forEach((h, offset) => {
      if (h.taken && !h.final) processing.push(offset)
    })
    const units = [...this.#retry, this.#pending.drain()]
    this.#retry.length = 0
    const results: AckResult[] = []
    for (const e of units.flat()) this.#finish(e, 'lock_lost', results, error)
    this.counters.lockLost += this.#held.size
    this.#held.clear()
    this.#buffer.clear()
    this.#untaken = 0
    return { processing, results }
  }

  /** Queues RELEASE for buffered records (revocation): nobody will process them here. */
  releaseBuffered(): number {
    const n = this.#release((h) => !h.taken)
    this.#untaken = 0
    this.#buffer.clear()
    return n
  }

  /** Queues RELEASE for everything held without a final acknowledgement (closing). */
  releaseAll(): number {
    return this.releaseBuffered() + this.#release(() => true)
  }

  /** Queues RELEASE for the held records `which` picks that have no final acknowledgement yet. */
  #release(which: (h: Held) => boolean): number {
    let n = 0
    this.#held.forEach((h, offset) => {
      if (h.final || !which(h)) return
      h.final = true
      // A renewal still queued for it goes: the release replaces it.
      this.#dropPending(offset, 'superseded')
      this.#queue(entry({ offset, deliveryCount: h.deliveryCount }, 'release'))
      n++
    })
    return n
  }

  #queue(e: AckEntry): void {
    this.#pending.set(e.offset, e)
  }

  #dropRetried(offset: number, outcome: AckOutcome): void {
    for (let i = 0; i < this.#retry.length; i++) {
      const unit = this.#retry[i]!
      const at = unit.findIndex((e) => e.offset === offset && e.type !== 'gap')
      if (at < 0) continue
      notifyWaiters(unit[at]!, this, outcome)
      unit.splice(at, 1)
      if (unit.length === 0) this.#retry.splice(i--, 1)
    }
  }

  /** A delivery's acknowledgements not yet applied, queued or awaiting a resend: lock_lost. */
  #dropAcknowledgements(offset: number): void {
    this.#dropPending(offset, 'lock_lost')
    this.#dropRetried(offset, 'lock_lost')
  }

  #dropPending(offset: number, outcome: AckOutcome): void {
    const e = this.#pending.get(offset)
    if (!e) return
    this.#pending.delete(offset)
    notifyWaiters(e, this, outcome)
  }

  /** Applies the answer to `e`, tells its listeners and adds its result to `out` (none for a GAP). */
  #finish(
    e: AckEntry,
    outcome: AckOutcome,
    out: AckResult[],
    error?: ShareError,
    renewDeadline?: number,
  ): void {
    const h = this.#held.get(e.offset)
    const current = h && (e.type === 'gap' || h.deliveryCount === e.deliveryCount) ? h : undefined
    if (outcome === 'ok' && e.late && current) {
      error = lockLostError(this, e.offset, `${e.type} sent after the lock's deadline`)
      if (e.type === 'renew' && renewDeadline !== undefined) {
        // Our deadline is conservative (a fetch's send time plus the lock; the broker may have
        // acquired at the end of its wait): the broker renewed a lock it still held. Reported
        // lost (the record may have run elsewhere), the delivery keeps its renewed lock, so
        // its final acknowledgement still goes out (dropped, the broker would keep the record
        // locked for a whole lock and then deliver it again).
        this.counters.renewed++
        current.deadline = renewDeadline
        const r = entryResult(this, e, 'renew', 'lock_lost', error)
        r.lockDeadline = renewDeadline
        tell(e, r)
        out.push(r)
        return
      }
      outcome = 'lock_lost'
    }
    if (outcome === 'ok') {
      countAcknowledged(this.counters, e.type)
      if (e.type === 'renew') {
        if (current && renewDeadline !== undefined) current.deadline = renewDeadline
      } else if (current) this.#held.delete(e.offset)
    } else if (outcome === 'lock_lost') {
      if (current) {
        // A buffered record (its renewal came back lock_lost) leaves the buffer with its lock.
        if (!current.taken && !current.final) this.#untaken--
        this.#held.delete(e.offset)
        this.counters.lockLost++
        // Its acknowledgement still queued (or awaiting a resend) would apply to a later delivery.
        this.#dropAcknowledgements(e.offset)
      }
    } else if (outcome === 'failed') {
      this.counters.failed++
      // Not applied, and not to be tried again: the record leaves the lock count (kept, it would
      // fill the lock budget for good and the member would stop fetching). The broker still
      // holds the lock until it expires (or the session's close releases it), then delivers the
      // record again.
      if (current && e.type !== 'renew') this.#held.delete(e.offset)
    }
    if (e.type === 'gap') return
    const r = entryResult(this, e, e.type, outcome, error)
    if (outcome === 'ok' && e.type === 'renew' && current) r.lockDeadline = current.deadline
    tell(e, r)
    out.push(r)
  }
}
