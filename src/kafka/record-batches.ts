// Kafka record batches (magic 2), decoded over one contiguous Buffer. Batch headers are read
// eagerly (and compressed batches decompressed); records are only scanned: a RecordCursor walks
// them and gives each record's positions, and key, value and headers are cut out of the buffer
// when someone asks (bytesAt, headersAt). No object per record, no tuple per varint, no BigInt
// per record: that is what made decoding through @platformatic/kafka's readRecordsBatches the
// largest cost of consuming.
import { compressionsAlgorithmsByBitmask } from '@platformatic/kafka'
import { MalformedResponseError } from './apis/decode.ts'

/*
  RecordBatch =>
    base_offset => INT64
    batch_length => INT32 (bytes after this field)
    partition_leader_epoch => INT32
    magic => INT8 (2)
    crc => UINT32 (CRC-32C of attributes..end)
    attributes => INT16 (bits 0-2 compression, 3 log-append time, 4 transactional, 5 control)
    last_offset_delta => INT32
    base_timestamp => INT64
    max_timestamp => INT64
    producer_id => INT64
    producer_epoch => INT16
    base_sequence => INT32
    records_count => INT32
    records => [Record] (compressed as a whole when attributes say so)
  Record =>
    length => VARINT (bytes after this field)
    attributes => INT8 (unused)
    timestamp_delta => VARLONG
    offset_delta => VARINT
    key => VARINT length (-1 null) + bytes
    value => VARINT length (-1 null) + bytes
    headers => VARINT count + [key => VARINT length + bytes (a string), value => VARINT length (-1 null) + bytes]
  VARINT and VARLONG are zigzag-encoded.
*/

/** base_offset and batch_length: what must be there to know whether a batch is whole. */
const BATCH_PREFIX = 12
/** The header up to and including records_count. */
const BATCH_HEADER = 61
const COMPRESSION_MASK = 0x07

export const CONTROL_BATCH = 0x20
export const TRANSACTIONAL_BATCH = 0x10
export const LOG_APPEND_TIME = 0x08

/** A record batch's header, and where its records are (decompressed when the batch was compressed). */
export interface RecordBatch {
  baseOffset: number
  lastOffsetDelta: number
  partitionLeaderEpoch: number
  attributes: number
  firstTimestamp: number
  maxTimestamp: number
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  recordCount: number
  /** The response that carried the batch (named by errors found when its records are read). */
  site: DecodeSite
  /** Holds the records from `recordsAt` to `recordsEnd`. */
  data: Buffer
  recordsAt: number
  recordsEnd: number
}

/**
 * Where a record batch could not be read: the response that carried it names the API and version.
 */
export interface DecodeSite {
  api: string
  version: number
}

/**
 * The whole record batches of a COMPACT_RECORDS field. A batch cut short at the end (brokers cut
 * the last one at the size limit) ends the list without an error.
 */
export function readRecordBatches(data: Buffer, site: DecodeSite): RecordBatch[] {
  const batches: RecordBatch[] = []
  let p = 0
  while (data.length - p >= BATCH_PREFIX) {
    const length = data.readInt32BE(p + 8)
    if (length < BATCH_HEADER - BATCH_PREFIX) {
      throw malformed(site, `record batch at byte ${p} claims ${length} bytes, less than its header`)
    }
    const end = p + BATCH_PREFIX + length
    if (end > data.length) break
    batches.push(readBatch(data, p, end, site))
    p = end
  }
  return batches
}

function readBatch(data: Buffer, p: number, end: number, site: DecodeSite): RecordBatch {
  const magic = data.readInt8(p + 16)
  if (magic !== 2) {
    throw malformed(site, `record batch at byte ${p} has magic ${magic}: only magic 2 is supported`)
  }
  const attributes = data.readInt16BE(p + 21)
  const recordCount = data.readInt32BE(p + 57)
  if (recordCount < 0) throw malformed(site, `record batch at byte ${p} claims ${recordCount} records`)
  const batch: RecordBatch = {
    baseOffset: int64(data, p),
    partitionLeaderEpoch: data.readInt32BE(p + 12),
    attributes,
    lastOffsetDelta: data.readInt32BE(p + 23),
    firstTimestamp: int64(data, p + 27),
    maxTimestamp: int64(data, p + 35),
    producerId: data.readBigInt64BE(p + 43),
    producerEpoch: data.readInt16BE(p + 51),
    baseSequence: data.readInt32BE(p + 53),
    recordCount,
    site,
    data,
    recordsAt: p + BATCH_HEADER,
    recordsEnd: end,
  }
  const compression = attributes & COMPRESSION_MASK
  if (compression !== 0) {
    const algorithm = compressionsAlgorithmsByBitmask[compression]
    if (!algorithm) {
      throw malformed(site, `record batch at byte ${p} uses unknown compression ${compression}`)
    }
    let plain: Buffer
    try {
      plain = algorithm.decompressSync(data.subarray(p + BATCH_HEADER, end))
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error)
      throw malformed(site, `record batch at byte ${p} does not decompress: ${detail}`, error)
    }
    batch.data = plain
    batch.recordsAt = 0
    batch.recordsEnd = plain.length
  }
  return batch
}

/** An INT64 as a Number: exact below 2^53, which offsets and timestamps are. */
function int64(data: Buffer, p: number): number {
  return data.readInt32BE(p) * 4294967296 + data.readUInt32BE(p + 4)
}

function malformed(site: DecodeSite, detail: string, cause?: unknown): MalformedResponseError {
  return new MalformedResponseError(site.api, site.version, detail, cause ? { cause } : undefined)
}

// Varints are read by functions that return the value and leave the position after it here:
// no [value, read] tuple per field. Reads past the buffer see `undefined`, i.e. 0: every caller
// compares `next` with its limit.
let next = 0

/** A zigzag VARINT (at most 5 bytes) at `p`. */
function varint(b: Buffer, p: number): number {
  let byte = b[p++]!
  let raw = byte & 0x7f
  if (byte >= 0x80) {
    byte = b[p++]!
    raw |= (byte & 0x7f) << 7
    if (byte >= 0x80) {
      byte = b[p++]!
      raw |= (byte & 0x7f) << 14
      if (byte >= 0x80) {
        byte = b[p++]!
        raw |= (byte & 0x7f) << 21
        if (byte >= 0x80) {
          byte = b[p++]!
          // A sixth byte would not fit 32 bits: leave `next` past any limit.
          if (byte >= 0x80) p = Number.MAX_SAFE_INTEGER
          raw |= (byte & 0x0f) << 28
        }
      }
    }
  }
  next = p
  return (raw >>> 1) ^ -(raw & 1)
}

/** A zigzag VARLONG (at most 10 bytes) at `p`, as a Number (exact up to 2^53). */
function varlong(b: Buffer, p: number): number {
  let byte = b[p++]!
  if (byte < 0x80) {
    next = p
    return (byte >>> 1) ^ -(byte & 1)
  }
  let raw = byte & 0x7f
  let scale = 128
  for (let i = 1; ; i++) {
    byte = b[p++]!
    raw += (byte & 0x7f) * scale
    if (!(byte >= 0x80)) break
    if (i === 9) {
      p = Number.MAX_SAFE_INTEGER
      break
    }
    scale *= 128
  }
  next = p
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
}

/**
 * Walks the records of one batch, checking that every field lies inside its record and every
 * record inside the batch. After `next()` returns true the fields describe the record read.
 */
export class RecordCursor {
  offsetDelta = 0
  timestampDelta = 0
  /** Position of the key's length (read it with {@link bytesAt}). */
  keyAt = 0
  /** Position of the value's length. */
  valueAt = 0
  /** Position of the header count, or -1 when the record has no headers. */
  headersAt = -1
  /** Key and value bytes together (what buffers count). */
  size = 0
  #data: Buffer = Buffer.alloc(0)
  #p = 0
  #end = 0
  #left = 0
  #site: DecodeSite = { api: '', version: 0 }

  /** Starts on a batch's records. */
  reset(batch: RecordBatch): this {
    this.#site = batch.site
    this.#data = batch.data
    this.#p = batch.recordsAt
    this.#end = batch.recordsEnd
    this.#left = batch.recordCount
    return this
  }

  next(): boolean {
    const b = this.#data
    const batchEnd = this.#end
    let p = this.#p
    if (this.#left === 0) {
      if (p !== batchEnd) this.#fail(`${batchEnd - p} bytes after the batch's last record`)
      return false
    }
    this.#left--
    const length = varint(b, p)
    p = next
    const end = p + length
    if (length < 0 || end > batchEnd) this.#fail(`a record claims ${length} bytes past the batch's end`)
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
    this.#p = end
    return true
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

/** The headers whose count is at `at` (-1: none), in wire order, as fresh arrays. */
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
