/** What {@link InFlightUnits} keeps on each unit it links (the unit is the list node). */
export interface InFlightLink {
  /** When the unit was taken (`performance.now()` ms: monotonic); meaningful while linked. */
  takenAt: number
  inFlightPrev: InFlightLink | undefined
  inFlightNext: InFlightLink | undefined
  inFlightLinked: boolean
}

/**
 * A partition's units in flight, oldest first: what health reports as stuck. A Map from unit to
 * time did this before, but a unit enters and leaves once per record, and the Map grew and
 * shrank its table with every batch (~150 B per record allocated in a no-op share member); the
 * units link themselves here instead, so adding and removing allocates nothing.
 */
export class InFlightUnits {
  #head: InFlightLink | undefined
  #tail: InFlightLink | undefined
  #size = 0

  get size(): number {
    return this.#size
  }

  /** Links `unit` as the newest, taken at `now` (taken again: it moves to the end). */
  add(unit: InFlightLink, now: number): void {
    if (unit.inFlightLinked) this.delete(unit)
    unit.takenAt = now
    unit.inFlightLinked = true
    unit.inFlightPrev = this.#tail
    unit.inFlightNext = undefined
    if (this.#tail) this.#tail.inFlightNext = unit
    else this.#head = unit
    this.#tail = unit
    this.#size++
  }

  /** Unlinks `unit`; nothing when it is not linked. */
  delete(unit: InFlightLink): void {
    if (!unit.inFlightLinked) return
    const { inFlightPrev: prev, inFlightNext: next } = unit
    if (prev) prev.inFlightNext = next
    else this.#head = next
    if (next) next.inFlightPrev = prev
    else this.#tail = prev
    unit.inFlightPrev = undefined
    unit.inFlightNext = undefined
    unit.inFlightLinked = false
    this.#size--
  }

  /** When the oldest unit in flight was taken; undefined when none is. */
  oldestTakenAt(): number | undefined {
    return this.#head?.takenAt
  }
}
