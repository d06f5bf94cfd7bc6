import { FetchedRecord } from './fetched-records.ts'
import type { ConsumerRecord } from './types.ts'

/** Bytes a record holds in memory (key and value; headers are small and not counted). */
export function recordBytes(record: ConsumerRecord): number {
  // A fetched record knows its size without cutting its key and value out of the fetched bytes.
  if (record instanceof FetchedRecord) return record.fetchedSize
  return (record.key?.length ?? 0) + (record.value?.length ?? 0)
}

/**
 * Fetched, not yet taken records of one partition: a queue of chunks (one per fetch
 * response) so that appending and taking whole chunks copy nothing.
 */
export class PartitionBuffer {
  #chunks: ConsumerRecord[][] = []
  #head = 0
  records = 0
  bytes = 0

  append(records: ConsumerRecord[], bytes: number): void {
    if (records.length === 0) return
    this.#chunks.push(records)
    this.records += records.length
    this.bytes += bytes
  }

  /** Takes up to `max` records in offset order. */
  take(max: number): ConsumerRecord[] {
    let out: ConsumerRecord[] | undefined
    let taken = 0
    while (taken < max && this.#chunks.length > 0) {
      const chunk = this.#chunks[0]!
      const available = chunk.length - this.#head
      const n = Math.min(available, max - taken)
      const whole = this.#head === 0 && n === chunk.length
      const part = whole ? chunk : chunk.slice(this.#head, this.#head + n)
      // A chunk taken a little at a time lives long: it must not keep the records already taken
      // alive, or they (and the buffers of their keys and values) outlive young-generation
      // collections and are only freed by full ones (see fetched-records.ts).
      if (!whole && n < available) {
        ;(chunk as (ConsumerRecord | undefined)[]).fill(undefined, this.#head, this.#head + n)
      }
      if (n === available) {
        this.#chunks.shift()
        this.#head = 0
      } else {
        this.#head += n
      }
      let bytes = 0
      for (const r of part) bytes += recordBytes(r)
      this.bytes -= bytes
      this.records -= n
      taken += n
      if (out === undefined) out = part
      else for (const r of part) out.push(r)
    }
    return out ?? []
  }

  /** Drops buffered records at `offset` and above (the log was truncated there); returns the bytes dropped. */
  truncateFrom(offset: number): number {
    const kept: ConsumerRecord[][] = []
    let dropped = 0
    for (let c = 0; c < this.#chunks.length; c++) {
      const chunk = this.#chunks[c]!
      const start = c === 0 ? this.#head : 0
      const part: ConsumerRecord[] = []
      for (let i = start; i < chunk.length; i++) {
        const r = chunk[i]!
        if (r.offset < offset) part.push(r)
        else {
          dropped += recordBytes(r)
          this.records--
        }
      }
      if (part.length > 0) kept.push(part)
    }
    this.#chunks = kept
    this.#head = 0
    this.bytes -= dropped
    return dropped
  }

  /** Offset of the next record `take` returns, if any. */
  firstOffset(): number | undefined {
    return this.#chunks[0]?.[this.#head]?.offset
  }

  clear(): void {
    this.#chunks = []
    this.#head = 0
    this.records = 0
    this.bytes = 0
  }
}
