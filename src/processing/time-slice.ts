import { setImmediate as nextTurn } from 'node:timers/promises'

/**
 * Synchronous work of ours (and the user calls it makes) between two turns of the event loop
 * is kept to about this long: timers (heartbeats, lock renewals, commit ticks) and socket I/O
 * run at least every slice plus one user call.
 */
export const SLICE_MS = 5

/**
 * A time slice of the event loop for one runtime's synchronous work: the record path asks
 * {@link TimeSlice.spent} between user calls and, once it is, waits for {@link TimeSlice.next}
 * (a macrotask: a resolved promise would not let timers or I/O run).
 *
 * A slice starts at the first question after the last one ended, and ends when the timers
 * phase runs (an unref'd zero timer, set when the slice starts): "a new slice" then means
 * timers have had their turn, however the work got control back (our own yield, an I/O
 * callback, a resolved handler promise).
 */
export class TimeSlice {
  readonly #ms: number
  /** When the current slice started; -1: none (the next question starts one). */
  #start = -1
  /** Slices ended so far: a waiter resumes once this moves (not when a new slice started). */
  #ended = 0
  #next: Promise<void> | undefined
  /** The clock (`performance.now()`) at the last question: a unit admitted right after it is stamped with it. */
  #lastRead = 0
  readonly #end = (): void => {
    this.#start = -1
    this.#ended++
  }

  constructor(ms: number = SLICE_MS) {
    this.#ms = ms
  }

  /**
   * True once the current slice is used up: yield before the next user call. Reads the clock at
   * every question (whatever the calls cost: a slow call after cheap ones must be seen at once).
   */
  spent(): boolean {
    const now = performance.now()
    this.#lastRead = now
    if (this.#start < 0) {
      this.#start = now
      setTimeout(this.#end, 0).unref()
      return false
    }
    return now - this.#start >= this.#ms
  }

  /**
   * The clock (`performance.now()`, ms) at the last {@link spent} question: what the record path
   * stamps a unit it admits right after asking with, instead of reading the clock again (a read
   * costs 60–90 ns on the VMs we measured, as much as the rest of a record's way).
   */
  get lastRead(): number {
    return this.#lastRead
  }

  /** Resolves in a later macrotask, once timers have run (a new slice may start). Shared by all waiters. */
  next(): Promise<void> {
    this.#next ??= this.#wait()
    return this.#next
  }

  async #wait(): Promise<void> {
    try {
      // No slice running: one turn is enough.
      if (this.#start < 0) return await nextTurn()
      // setImmediate lets I/O run; the timer that ends the slice runs in a later loop turn.
      const ended = this.#ended
      do await nextTurn()
      while (this.#ended === ended)
    } finally {
      this.#next = undefined
    }
  }
}
