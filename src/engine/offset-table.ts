/** Slots a table starts with, and the most its window grows to (then stragglers move aside). */
const INITIAL_SLOTS = 64
const MAX_SLOTS = 16384
const SHRINK_ABOVE = 4096

/**
 * A map from offsets of one partition to values, for state that turns over once per record
 * (locks held, records in progress). A Map keyed by offset paid for every record in hashing,
 * deleted entries left in its chains and rehashing; here the offsets of a sliding window
 * [base, base + slots) live in a ring indexed by offset, which is where nearly all of them are
 * (a partition's records are handed out and finished in roughly offset order). Offsets below
 * the window (a record delivered again after later ones, or one still in progress when the
 * window had to move past it) are kept in a Map on the side; an empty table moves its window to
 * whatever offset comes next, up or down. Iterates in offset order.
 */
export class OffsetTable<T> {
  #slots: Array<T | undefined> = new Array(INITIAL_SLOTS)
  #mask = INITIAL_SLOTS - 1
  /** The lowest offset of the window; -1 while nothing was ever set. */
  #base = -1
  /** Values in the window. */
  #inWindow = 0
  /** Values below the window (only there: the window moves down only when the table is empty). */
  readonly #below = new Map<number, T>()

  get size(): number {
    return this.#inWindow + this.#below.size
  }

  /**
   * Values kept aside, below the window (read-only, for tests and diagnostics): each walk or
   * drain sorts their offsets, so this stays near zero in steady work.
   */
  get belowWindow(): number {
    return this.#below.size
  }

  get(offset: number): T | undefined {
    const i = offset - this.#base
    if (i >= 0 && i <= this.#mask) return this.#slots[offset & this.#mask]
    return this.#below.size === 0 ? undefined : this.#below.get(offset)
  }

  has(offset: number): boolean {
    return this.get(offset) !== undefined
  }

  set(offset: number, value: T): void {
    // Nothing held (never set, or emptied): the window starts here, also below where it was (a
    // position reset to earlier offsets would otherwise put every record aside).
    if (this.#base < 0 || (offset < this.#base && this.#inWindow === 0 && this.#below.size === 0))
      this.#base = offset
    if (offset < this.#base) {
      this.#below.set(offset, value)
      return
    }
    if (offset - this.#base > this.#mask) this.#reach(offset)
    const at = offset & this.#mask
    if (this.#slots[at] === undefined) this.#inWindow++
    this.#slots[at] = value
  }

  /** Removes the value at `offset`; true when there was one. */
  delete(offset: number): boolean {
    const i = offset - this.#base
    if (i >= 0 && i <= this.#mask) {
      const at = offset & this.#mask
      if (this.#slots[at] === undefined) return false
      this.#slots[at] = undefined
      // Emptied after a burst that grew it past what steady work needs: let the large ring go (a
      // table lives per partition). Below that it is kept: a table empties after every batch,
      // and growing it back each time cost more allocation than the records themselves.
      if (--this.#inWindow === 0 && this.#slots.length > SHRINK_ABOVE && this.#below.size === 0) this.clear()
      return true
    }
    return this.#below.delete(offset)
  }

  clear(): void {
    this.#slots = new Array(INITIAL_SLOTS)
    this.#mask = INITIAL_SLOTS - 1
    this.#base = -1
    this.#inWindow = 0
    this.#below.clear()
  }

  /**
   * Calls `fn` for every value in offset order. `fn` may delete the value it was given (and
   * set or delete others: what it sets during the walk may or may not be visited).
   */
  forEach(fn: (value: T, offset: number) => void): void {
    if (this.#below.size > 0) {
      const below = [...this.#below.keys()].sort((a, b) => a - b)
      for (const offset of below) {
        const value = this.#below.get(offset)
        if (value !== undefined) fn(value, offset)
      }
    }
    if (this.#inWindow === 0) return
    const base = this.#base
    const slots = this.#slots
    const mask = this.#mask
    for (let i = 0; i <= mask; i++) {
      const value = slots[(base + i) & mask]
      // Re-checked: `fn` may have moved the window (then the rest is walked as it was).
      if (value !== undefined) fn(value, base + i)
    }
  }

  /**
   * Removes every value and returns them in offset order. The ring is kept (unlike `clear`): a
   * table emptied whole and refilled over and over (the acknowledgements queued between two
   * requests) would otherwise grow it back each time.
   */
  drain(): T[] {
    const out: T[] = []
    this.forEach((value, offset) => {
      out.push(value)
      this.delete(offset)
    })
    return out
  }

  /** True when `test` holds for some value (stops at the first). */
  some(test: (value: T) => boolean): boolean {
    for (const value of this.#below.values()) if (test(value)) return true
    if (this.#inWindow === 0) return false
    for (const value of this.#slots) if (value !== undefined && test(value)) return true
    return false
  }

  /** The values in offset order (a copy). */
  values(): T[] {
    const out: T[] = []
    this.forEach((value) => {
      out.push(value)
    })
    return out
  }

  /** Moves or grows the window until `offset` (above it) fits in it. */
  #reach(offset: number): void {
    if (this.#inWindow === 0) {
      // Nothing in the window: it starts at `offset` (an empty ring needs no moving).
      this.#base = offset
      return
    }
    // Up to the lowest value held costs nothing (the slots before it are empty), and each slot
    // is walked over once as the base only moves up.
    while (this.#slots[this.#base & this.#mask] === undefined) this.#base++
    // Grow while the values held would otherwise be moved aside (records in progress long).
    while (offset - this.#base > this.#mask && this.#slots.length < MAX_SLOTS) this.#grow()
    if (offset - this.#base <= this.#mask) return
    // What the window leaves goes below it: walked over at most one ring.
    const base = offset - this.#mask
    const end = Math.min(base, this.#base + this.#slots.length)
    for (let o = this.#base; o < end && this.#inWindow > 0; o++) {
      const at = o & this.#mask
      const value = this.#slots[at]
      if (value === undefined) continue
      this.#slots[at] = undefined
      this.#inWindow--
      this.#below.set(o, value)
    }
    this.#base = this.#inWindow === 0 ? offset : base
  }

  #grow(): void {
    const old = this.#slots
    const oldMask = this.#mask
    const slots: Array<T | undefined> = new Array(old.length * 2)
    const mask = slots.length - 1
    for (let i = 0; i <= oldMask; i++) {
      const o = this.#base + i
      const value = old[o & oldMask]
      if (value !== undefined) slots[o & mask] = value
    }
    this.#slots = slots
    this.#mask = mask
  }
}
