// Walks the records of a batch without making an object per record: after `next()` the cursor's
// fields say where the record's key, value and headers are, and `bytesAt` / `headersAt` cut
// them out when someone asks.
import { type DecodeSite, malformed, type RecordBatch } from './batches.ts'
import { next, varint, varlong } from './varint.ts'

const EMPTY = Buffer.alloc(0)

/**
 * Reads a batch's records, checking that every field lies inside its record and every record
 * inside the batch. A record lies in one part of the batch (a chunk of the response) but for
 * the few that straddle two: those are copied out whole.
 */
export class RecordCursor {
  offsetDelta = 0
  timestampDelta = 0
  /** The Buffer the positions below are in: a part of the batch, or a straddling record's copy. */
  data: Buffer = EMPTY
  /** Position of the key's length (read it with {@link bytesAt}). */
  keyAt = 0
  /** Position of the value's length. */
  valueAt = 0
  /** Position of the header count, or -1 when the record has no headers. */
  headersAt = -1
  /** Key and value bytes together (what buffers count). */
  size = 0
  #site: DecodeSite = { api: '', version: 0 }
  #parts: readonly Buffer[] = []
  #i = 0
  /** The current part and the position in it. */
  #b: Buffer = EMPTY
  #p = 0
  /** Bytes in the parts after the current one. */
  #rest = 0
  #left = 0

  /** Starts on a batch's records. */
  reset(batch: RecordBatch): this {
    this.#site = batch.site
    this.#parts = batch.parts
    this.#i = 0
    this.#b = batch.parts[0] ?? EMPTY
    this.#p = 0
    let rest = 0
    for (let i = 1; i < batch.parts.length; i++) rest += batch.parts[i]!.length
    this.#rest = rest
    this.#left = batch.recordCount
    return this
  }

  next(): boolean {
    if (this.#p === this.#b.length && this.#rest > 0) this.#advance()
    const b = this.#b
    const p = this.#p
    if (this.#left === 0) {
      const remaining = b.length - p + this.#rest
      if (remaining !== 0) this.#fail(`${remaining} bytes after the batch's last record`)
      return false
    }
    this.#left--
    const length = varint(b, p)
    const end = next + length
    if (length >= 0 && end <= b.length) {
      this.#record(b, next, end)
      this.#p = end
      return true
    }
    this.#straddling()
    return true
  }

  /** The record runs into the next part (or past the batch): it is copied out whole. */
  #straddling(): void {
    const remaining = this.#b.length - this.#p + this.#rest
    const head = this.#copy(Math.min(5, remaining), false)
    const length = varint(head, 0)
    const bodyAt = next
    if (length < 0 || bodyAt > head.length || bodyAt + length > remaining) {
      this.#fail(`a record claims ${length} bytes past the batch's end`)
    }
    const record = this.#copy(bodyAt + length, true)
    this.#record(record, bodyAt, record.length)
  }

  /** Parses the record whose fields lie in `b` from `p` to `end`. */
  #record(b: Buffer, p: number, end: number): void {
    // attributes (INT8): unused.
    this.timestampDelta = varlong(b, p + 1)
    this.offsetDelta = varint(b, next)
    p = next
    this.keyAt = p
    const keyLength = varint(b, p)
    p = next + Math.max(0, keyLength)
    this.valueAt = p
    const valueLength = varint(b, p)
    p = next + Math.max(0, valueLength)
    if (p > end || keyLength < -1 || valueLength < -1) this.#fail('a key or value runs past its record')
    this.size = Math.max(0, keyLength) + Math.max(0, valueLength)
    const headers = varint(b, p)
    if (headers < 0) this.#fail(`a record claims ${headers} headers`)
    this.headersAt = headers === 0 ? -1 : p
    p = next
    for (let i = 0; i < headers && p <= end; i++) {
      const keyLength = varint(b, p)
      p = next + Math.max(0, keyLength)
      const valueLength = varint(b, p)
      p = next + Math.max(0, valueLength)
      if (keyLength < -1 || valueLength < -1) this.#fail('a header has a negative length')
    }
    if (p !== end) this.#fail(`a record's fields end ${p - end} bytes from its length`)
    this.data = b
  }

  /** The next `n` bytes copied into a Buffer of their own; `move` moves past them. */
  #copy(n: number, move: boolean): Buffer {
    const copy = Buffer.allocUnsafe(n)
    let i = this.#i
    let b = this.#b
    let p = this.#p
    let rest = this.#rest
    for (let filled = 0; ; ) {
      const taken = b.copy(copy, filled, p, Math.min(b.length, p + n - filled))
      filled += taken
      p += taken
      if (filled === n) break
      i++
      b = this.#parts[i]!
      p = 0
      rest -= b.length
    }
    if (move) {
      this.#i = i
      this.#b = b
      this.#p = p
      this.#rest = rest
    }
    return copy
  }

  /** Moves to the next part that has bytes. */
  #advance(): void {
    do {
      this.#i++
      this.#b = this.#parts[this.#i]!
      this.#p = 0
      this.#rest -= this.#b.length
    } while (this.#b.length === 0 && this.#rest > 0)
  }

  #fail(detail: string): never {
    throw malformed(this.#site, `record batch: ${detail}`)
  }
}

/** The key or value whose length is at `at` (as the cursor gave it): a view, or null. */
export function bytesAt(data: Buffer, at: number): Buffer | null {
  const length = varint(data, at)
  return length < 0 ? null : data.subarray(next, next + length)
}

/** The headers whose count is at `at` (-1: none), in wire order, as a fresh array. */
export function headersAt(data: Buffer, at: number): Array<[Buffer | null, Buffer | null]> {
  if (at < 0) return []
  const count = varint(data, at)
  const headers = new Array<[Buffer | null, Buffer | null]>(count)
  let p = next
  for (let i = 0; i < count; i++) {
    const key = bytesAt(data, p)
    p = next + (key?.length ?? 0)
    const value = bytesAt(data, p)
    p = next + (value?.length ?? 0)
    headers[i] = [key, value]
  }
  return headers
}
