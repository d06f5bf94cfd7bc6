import { setImmediate as nextTurn } from 'node:timers/promises'

/**
 * Synchronous work of ours (and the user calls it makes) between two turns of the event loop
 * is kept to about this long: timers (heartbeats, lock renewals, commit ticks) and socket I/O
 * run at least every slice plus {@link MAX_UNTIMED_QUESTIONS} user calls (one, while calls are slow).
 */
export const SLICE_MS = 5

/**
 * At most this many questions are answered from the estimate, without reading the clock: a
 * clock read costs 60–90 ns on the VMs we measured, as much as the rest of a record's way
 * through the runtime. When user calls turn slow all at once, the slice overruns by at most
 * this many calls; the estimate then reads the clock at every question, until cheap questions
 * bring it down again (each slice starts it afresh): work that alternates runs of cheap and
 * slow calls can overrun every slice by this many calls.
 */
export const MAX_UNTIMED_QUESTIONS = 8

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
  /** Questions since the clock was last read, and how many may go before it is read again. */
  #questions = 0
  #readEvery = 1
  #lastRead = 0
  /**
   * What one question's work may cost (ms): the slowest measured lately. It starts at the
   * slice's length (unknown work counts as slow) and halves at each read that finds less, so a
   * cheap question next to slow calls (two checks with nothing between) cannot hide them.
   */
  #perQuestion = 0
  readonly #end = (): void => {
    this.#start = -1
    this.#ended++
  }

  constructor(ms: number = SLICE_MS) {
    this.#ms = ms
  }

  /**
   * True once the current slice is used up: yield before the next user call. The clock is read
   * as often as the recent cost of a question requires: so that the questions until the next
   * read could not use up more than a quarter of what is left of the slice (every question once
   * calls take a while).
   */
  spent(): boolean {
    if (this.#start >= 0 && ++this.#questions < this.#readEvery) return false
    const now = performance.now()
    if (this.#start < 0) {
      this.#start = now
      this.#lastRead = now
      this.#questions = 0
      this.#readEvery = 1
      this.#perQuestion = this.#ms
      setTimeout(this.#end, 0).unref()
      return false
    }
    const elapsed = now - this.#start
    this.#perQuestion = Math.max((now - this.#lastRead) / this.#questions, this.#perQuestion / 2)
    this.#lastRead = now
    this.#questions = 0
    if (elapsed >= this.#ms) {
      this.#readEvery = 1
      return true
    }
    const affordable = Math.floor((this.#ms - elapsed) / 4 / this.#perQuestion)
    this.#readEvery = Math.max(1, Math.min(MAX_UNTIMED_QUESTIONS, affordable))
    return false
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
