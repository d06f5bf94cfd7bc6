const INITIAL_SLOTS = 8
/**
 * Emptied with more slots than this, the ring goes back to its initial size: lanes stay when
 * empty (lane-scheduler.ts), and each would otherwise keep the slots of the most it ever held.
 */
const SHRINK_ABOVE = 64

/**
 * A FIFO on a ring of slots that doubles when full. `Array#shift` copies the array once it is
 * long: a lane of 4,000 queued units (ordered processing, capacity 1000) paid that copy on every
 * finished unit. A ring also reuses its slots: a lane that keeps up (one unit in, one out) never
 * allocates.
 */
export class Fifo<T> {
  #slots: Array<T | undefined> = new Array<T | undefined>(INITIAL_SLOTS)
  /** Index of the first item; the ring's size is a power of two, so `& mask` wraps. */
  #head = 0
  #length = 0

  get length(): number {
    return this.#length
  }

  /** The first item, or undefined when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head]
  }

  push(item: T): void {
    if (this.#length === this.#slots.length) this.#grow()
    this.#slots[(this.#head + this.#length) & (this.#slots.length - 1)] = item
    this.#length++
  }

  unshift(item: T): void {
    if (this.#length === this.#slots.length) this.#grow()
    this.#head = (this.#head - 1) & (this.#slots.length - 1)
    this.#slots[this.#head] = item
    this.#length++
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined
    const item = this.#slots[this.#head]
    this.#slots[this.#head] = undefined
    this.#head = (this.#head + 1) & (this.#slots.length - 1)
    if (--this.#length === 0 && this.#slots.length > SHRINK_ABOVE) {
      this.#slots = new Array<T | undefined>(INITIAL_SLOTS)
      this.#head = 0
    }
    return item
  }

  *[Symbol.iterator](): IterableIterator<T> {
    const mask = this.#slots.length - 1
    for (let i = 0; i < this.#length; i++) yield this.#slots[(this.#head + i) & mask] as T
  }

  /** Removes the items matching `predicate`, except the first `keep` (always kept); returns them. */
  remove(predicate: (item: T) => boolean, keep = 0): T[] {
    const kept: T[] = []
    const removed: T[] = []
    let i = 0
    for (const item of this) {
      if (i++ < keep) kept.push(item)
      else (predicate(item) ? removed : kept).push(item)
    }
    this.#slots = new Array<T | undefined>(kept.length > SHRINK_ABOVE ? this.#slots.length : INITIAL_SLOTS)
    this.#head = 0
    this.#length = 0
    for (const item of kept) this.push(item)
    return removed
  }

  #grow(): void {
    const old = this.#slots
    const mask = old.length - 1
    const slots = new Array<T | undefined>(old.length * 2)
    for (let i = 0; i < this.#length; i++) slots[i] = old[(this.#head + i) & mask]
    this.#slots = slots
    this.#head = 0
  }
}
