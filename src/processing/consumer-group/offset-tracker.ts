import { MultilaneError } from '../../errors.ts'
/**
 * Per-partition offset tracking: which fetched records are finished, so that a commit never
 * passes a record that is not done, and which records above the commit are done (the offset
 * map stored in the commit metadata).
 *
 * Model. The tracker keeps a frontier F: every offset below F has been seen by the tracker
 * (tracked, skipped, or jumped over by advance()). An offset below F is done unless it is
 * pending (tracked and not completed). Kafka offsets have gaps (compaction, transaction
 * markers, filtered records): an offset below F that was never tracked is a gap and counts
 * as done. Hence committable() is the lowest pending offset, or F when nothing is pending.
 *
 * Storage. Tracked and skipped offsets since the lowest pending one sit in a ring buffer in
 * offset order, with a done flag each; the head always points at a pending entry, and
 * completed entries are released when the head moves past them. Because offsets increase
 * by at least 1 per entry, `offset - headOffset` bounds an entry's distance from the head:
 * with contiguous offsets that guess hits at once, otherwise a binary search below it does.
 *
 * Gaps are not listed in doneAbove(): the broker never returns them, and a long compacted
 * range would make the list (not the encoded map) huge.
 */

/** Error codes raised by {@link PartitionOffsetTracker}. */
export type OffsetTrackerErrorCode =
  | 'OFFSET_TRACKER_ORDER'
  | 'OFFSET_TRACKER_UNKNOWN'
  | 'OFFSET_TRACKER_INVALID'

/** Misuse of a {@link PartitionOffsetTracker}; these indicate a bug in the caller. */
export class OffsetTrackerError extends MultilaneError<OffsetTrackerErrorCode> {}

const INITIAL_CAPACITY = 64

function checkOffset(offset: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new OffsetTrackerError(
      'OFFSET_TRACKER_INVALID',
      `${what} must be a non-negative safe integer, got ${offset}`,
    )
  }
}

/** Tracks finished records of one assigned topic-partition; see the module comment. */
export class PartitionOffsetTracker {
  // Ring buffer: offsets and done flags of entries head .. head + size - 1 (mod capacity).
  #offsets: Float64Array
  #done: Uint8Array
  #mask: number
  #head = 0
  #size = 0
  #pending = 0
  /** Every offset below this has been seen; the next track/skip must be at or above it. */
  #frontier: number
  /** Restored offset map (done before a restart); consumed from #restoredIndex on. */
  #restored: readonly number[] | undefined
  #restoredIndex = 0
  #version = 0

  /**
   * @param position the committed offset the partition starts from
   * @param doneAbove offsets already done above `position` (a decoded offset map), sorted
   */
  constructor(position: number, doneAbove?: readonly number[]) {
    checkOffset(position, 'position')
    this.#frontier = position
    this.#offsets = new Float64Array(INITIAL_CAPACITY)
    this.#done = new Uint8Array(INITIAL_CAPACITY)
    this.#mask = INITIAL_CAPACITY - 1
    if (doneAbove !== undefined && doneAbove.length > 0) {
      let previous = position
      for (const offset of doneAbove) {
        if (!Number.isSafeInteger(offset) || offset <= previous) {
          throw new OffsetTrackerError(
            'OFFSET_TRACKER_INVALID',
            `restored offsets must be sorted, distinct and above position ${position}, got ${offset} after ${previous}`,
          )
        }
        previous = offset
      }
      this.#restored = doneAbove.slice()
    }
  }

  /**
   * Grows whenever committable() or doneAbove() may have changed: a commit tick compares it
   * with the version it last committed and skips re-encoding an unchanged offset map.
   */
  get version(): number {
    return this.#version
  }

  /** True when the restored offset map says `offset` is already done; call skip() for it. */
  shouldSkip(offset: number): boolean {
    const restored = this.#restored
    if (restored === undefined) return false
    let lo = this.#restoredIndex
    const first = restored[lo]!
    if (first >= offset) return first === offset
    // Normally `offset` is the next one fetched and the check above answers; a jump over
    // a gap falls back to a binary search without consuming anything.
    let hi = restored.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (restored[mid]! < offset) lo = mid + 1
      else hi = mid
    }
    return restored[lo] === offset
  }

  /** A record was handed to processing. Offsets must strictly increase. */
  track(offset: number): void {
    this.#checkNext(offset, 'track')
    this.#push(offset, 0)
    this.#pending++
    this.#moveFrontier(offset + 1)
  }

  /** A tracked record finished (handled, dead-lettered, or filtered out). */
  complete(offset: number): void {
    const slot = this.#find(offset)
    if (slot < 0) {
      throw new OffsetTrackerError(
        'OFFSET_TRACKER_UNKNOWN',
        `offset ${offset} is not tracked or already completed`,
      )
    }
    const done = this.#done
    if (done[slot] === 1) {
      throw new OffsetTrackerError('OFFSET_TRACKER_UNKNOWN', `offset ${offset} is already completed`)
    }
    done[slot] = 1
    this.#pending--
    this.#version++
    if (slot === this.#head) {
      // Release the completed prefix so the head is pending again (or the ring is empty).
      const mask = this.#mask
      let head = this.#head
      let size = this.#size
      while (size > 0 && done[head] === 1) {
        head = (head + 1) & mask
        size--
      }
      this.#head = size === 0 ? 0 : head
      this.#size = size
    }
  }

  /** A record that needs no processing (filtered, or done per the restored map): track + complete. */
  skip(offset: number): void {
    this.#checkNext(offset, 'skip')
    // With nothing pending the frontier alone records it; otherwise keep it for doneAbove().
    if (this.#size > 0) this.#push(offset, 1)
    this.#moveFrontier(offset + 1)
  }

  /** The fetch position moved to `nextFetchOffset`; untracked offsets below it are gaps. */
  advance(nextFetchOffset: number): void {
    checkOffset(nextFetchOffset, 'nextFetchOffset')
    if (nextFetchOffset > this.#frontier) this.#moveFrontier(nextFetchOffset)
  }

  /**
   * The offset to commit: the lowest pending offset; when none is pending, the frontier moved
   * past any restored offsets that directly follow it (they are done, and committing below
   * them would replay them after the next restart).
   */
  committable(): number {
    if (this.#size > 0) return this.#offsets[this.#head]!
    let offset = this.#frontier
    const restored = this.#restored
    if (restored !== undefined) {
      for (let i = this.#restoredIndex; i < restored.length && restored[i] === offset; i++) offset++
    }
    return offset
  }

  /**
   * Offsets done above committable(), sorted: completed or skipped ones, plus (unless
   * `ownOnly`) restored ones not reached yet. `ownOnly` is what finishing pending records can
   * shrink; the restored rest only shrinks as later records are taken.
   */
  doneAbove(ownOnly = false): number[] {
    const out: number[] = []
    const offsets = this.#offsets
    const done = this.#done
    const mask = this.#mask
    for (let i = 0, slot = this.#head; i < this.#size; i++, slot = (slot + 1) & mask) {
      if (done[slot] === 1) out.push(offsets[slot]!)
    }
    const restored = this.#restored
    if (restored !== undefined && !ownOnly) {
      // Restored offsets are all >= the frontier; those committable() already passed are left out.
      const committable = this.committable()
      for (let i = this.#restoredIndex; i < restored.length; i++) {
        const offset = restored[i]!
        if (offset > committable) out.push(offset)
      }
    }
    return out
  }

  /**
   * Offsets the tracker holds from the lowest pending one on (pending, completed, skipped): the
   * window whose size bounds its memory and the cost of a commit.
   */
  windowSize(): number {
    return this.#size
  }

  /** True while the restored offset map has offsets not reached yet. */
  hasRestored(): boolean {
    return this.#restored !== undefined
  }

  /** Number of tracked records not yet completed. */
  pendingCount(): number {
    return this.#pending
  }

  /** The lowest tracked offset not yet completed, if any. */
  lowestPending(): number | undefined {
    return this.#size > 0 ? this.#offsets[this.#head] : undefined
  }

  #checkNext(offset: number, what: string): void {
    checkOffset(offset, 'offset')
    if (offset < this.#frontier) {
      throw new OffsetTrackerError(
        'OFFSET_TRACKER_ORDER',
        `${what}(${offset}) out of order: offsets below ${this.#frontier} were already tracked or passed`,
      )
    }
  }

  #moveFrontier(frontier: number): void {
    this.#frontier = frontier
    this.#version++
    const restored = this.#restored
    if (restored === undefined) return
    let index = this.#restoredIndex
    while (index < restored.length && restored[index]! < frontier) index++
    if (index === restored.length) {
      // Past the highest restored offset: the map has nothing more to say.
      this.#restored = undefined
      this.#restoredIndex = 0
    } else {
      this.#restoredIndex = index
    }
  }

  #push(offset: number, done: number): void {
    if (this.#size === this.#offsets.length) this.#grow()
    const slot = (this.#head + this.#size) & this.#mask
    this.#offsets[slot] = offset
    this.#done[slot] = done
    this.#size++
  }

  #grow(): void {
    const capacity = this.#offsets.length * 2
    const offsets = new Float64Array(capacity)
    const done = new Uint8Array(capacity)
    // Unroll the ring so the head lands at slot 0.
    const tail = this.#offsets.length - this.#head
    offsets.set(this.#offsets.subarray(this.#head))
    offsets.set(this.#offsets.subarray(0, this.#head), tail)
    done.set(this.#done.subarray(this.#head))
    done.set(this.#done.subarray(0, this.#head), tail)
    this.#offsets = offsets
    this.#done = done
    this.#mask = capacity - 1
    this.#head = 0
  }

  /** Slot of `offset` in the ring, or -1. */
  #find(offset: number): number {
    const size = this.#size
    if (size === 0) return -1
    const offsets = this.#offsets
    const mask = this.#mask
    const head = this.#head
    const distance = offset - offsets[head]!
    if (!(distance >= 0)) return -1
    // Offsets grow by at least 1 per entry, so the entry is at most `distance` slots away.
    let hi = distance < size ? distance : size - 1
    const guess = (head + hi) & mask
    if (offsets[guess] === offset) return guess
    let lo = 0
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (offsets[(head + mid) & mask]! < offset) lo = mid + 1
      else hi = mid
    }
    const slot = (head + lo) & mask
    return offsets[slot] === offset ? slot : -1
  }
}
