import type { ShareRecord } from './types.ts'

/**
 * A share partition's acquired records not yet taken, in the order fetched: a queue read from
 * its head. Each record is let go of as it is read: a buffer taken a little at a time lives
 * long, and records it still held (their key and value buffers too) would only be freed by a
 * full collection.
 */
export class AcquiredBuffer {
  #records: (ShareRecord | undefined)[] = []
  #head = 0

  push(record: ShareRecord): void {
    this.#records.push(record)
  }

  /** The next record, removed; undefined when none is left. */
  shift(): ShareRecord | undefined {
    if (this.#head === this.#records.length) return undefined
    const record = this.#records[this.#head]
    this.#records[this.#head++] = undefined
    return record
  }

  /** Frees what was read (after a take): all of it, or the read half of a long buffer. */
  compact(): void {
    if (this.#head === this.#records.length) this.clear()
    else if (this.#head > 4096 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head)
      this.#head = 0
    }
  }

  clear(): void {
    this.#records = []
    this.#head = 0
  }
}
