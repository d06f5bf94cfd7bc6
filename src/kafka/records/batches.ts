// Kafka record batches (magic 2). Batch headers are read eagerly (and compressed batches
// decompressed); records are only scanned later, by a RecordCursor (cursor.ts), and their key,
// value and headers cut out when someone asks. No object per record, no tuple per varint, no
// BigInt per record: decoding through @platformatic/kafka's readRecordsBatches was the largest
// cost of consuming.
//
// The bytes are read where they arrived: a response comes in socket chunks (64 KiB), and copying
// a partition's records into one Buffer costs more than decoding them (a fresh allocation of
// megabytes per response, its pages faulted in, and the collections it triggers: measured, 30%
// of the busy time). A batch's records are the views into the chunks that hold them (`parts`).
import { compressionsAlgorithmsByBitmask } from '@platformatic/kafka'
import { MalformedResponseError } from '../apis/decode.ts'

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
    headers => VARINT count + [key => VARINT length + bytes, value => VARINT length (-1 null) + bytes]
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

/** The response a record batch came in: errors found in it name the API and version. */
export interface DecodeSite {
  api: string
  version: number
}

/** A record batch's header, and its records' bytes (decompressed when the batch was compressed). */
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
  site: DecodeSite
  /** The records' bytes, in order: views into the chunks they arrived in, or the decompressed records. */
  parts: Buffer[]
}

/**
 * The whole record batches in `chunks` (a COMPACT_RECORDS field's bytes, in order). A batch cut
 * short at the end (brokers cut the last one at the size limit) ends the list without an error.
 */
export function readRecordBatches(chunks: readonly Buffer[], site: DecodeSite): RecordBatch[] {
  const batches: RecordBatch[] = []
  const walker = new ChunkWalker(chunks)
  while (walker.rest >= BATCH_PREFIX) {
    const h = walker.peek(Math.min(BATCH_HEADER, walker.rest))
    const at = walker.peeked
    const length = h.readInt32BE(at + 8)
    if (length < BATCH_HEADER - BATCH_PREFIX) {
      throw malformed(
        site,
        `record batch at byte ${walker.position} claims ${length} bytes, less than its header`,
      )
    }
    if (BATCH_PREFIX + length > walker.rest) break
    batches.push(readBatch(h, at, walker, length - (BATCH_HEADER - BATCH_PREFIX), site))
  }
  return batches
}

function readBatch(h: Buffer, at: number, walker: ChunkWalker, size: number, site: DecodeSite): RecordBatch {
  const magic = h.readInt8(at + 16)
  if (magic !== 2) {
    throw malformed(
      site,
      `record batch at byte ${walker.position} has magic ${magic}: only magic 2 is supported`,
    )
  }
  const attributes = h.readInt16BE(at + 21)
  const recordCount = h.readInt32BE(at + 57)
  if (recordCount < 0) {
    throw malformed(site, `record batch at byte ${walker.position} claims ${recordCount} records`)
  }
  const batch: RecordBatch = {
    baseOffset: int64(h, at),
    partitionLeaderEpoch: h.readInt32BE(at + 12),
    attributes,
    lastOffsetDelta: h.readInt32BE(at + 23),
    firstTimestamp: int64(h, at + 27),
    maxTimestamp: int64(h, at + 35),
    producerId: h.readBigInt64BE(at + 43),
    producerEpoch: h.readInt16BE(at + 51),
    baseSequence: h.readInt32BE(at + 53),
    recordCount,
    site,
    parts: [],
  }
  const position = walker.position
  walker.skip(BATCH_HEADER)
  batch.parts = walker.take(size)
  const compression = attributes & COMPRESSION_MASK
  if (compression !== 0) {
    const algorithm = compressionsAlgorithmsByBitmask[compression]
    if (!algorithm)
      throw malformed(site, `record batch at byte ${position} uses unknown compression ${compression}`)
    const compressed = batch.parts.length === 1 ? batch.parts[0]! : Buffer.concat(batch.parts, size)
    try {
      batch.parts = [algorithm.decompressSync(compressed)]
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error)
      throw malformed(site, `record batch at byte ${position} does not decompress: ${detail}`, error)
    }
  }
  return batch
}

/** An INT64 as a Number: exact below 2^53, which offsets and timestamps are. */
function int64(b: Buffer, p: number): number {
  return b.readInt32BE(p) * 4294967296 + b.readUInt32BE(p + 4)
}

export function malformed(site: DecodeSite, detail: string, cause?: unknown): MalformedResponseError {
  return new MalformedResponseError(site.api, site.version, detail, cause ? { cause } : undefined)
}

/** A read position over a list of chunks, moving forward only. */
class ChunkWalker {
  readonly #chunks: readonly Buffer[]
  #i = 0
  #p = 0
  /** Bytes from the position to the end. */
  rest: number
  /** Bytes before the position. */
  position = 0
  /** Where in the Buffer `peek` returned its bytes start. */
  peeked = 0

  constructor(chunks: readonly Buffer[]) {
    this.#chunks = chunks
    let total = 0
    for (const c of chunks) total += c.length
    this.rest = total
  }

  /** `n` bytes from the position (not moving it): a view of the chunk, or a copy where they span two. */
  peek(n: number): Buffer {
    this.#settle()
    const chunk = this.#chunks[this.#i]!
    if (this.#p + n <= chunk.length) {
      this.peeked = this.#p
      return chunk
    }
    const copy = Buffer.allocUnsafe(n)
    let i = this.#i
    let p = this.#p
    for (let filled = 0; filled < n; i++, p = 0) {
      filled += this.#chunks[i]!.copy(copy, filled, p, Math.min(this.#chunks[i]!.length, p + n - filled))
    }
    this.peeked = 0
    return copy
  }

  skip(n: number): void {
    this.take(n)
  }

  /** The next `n` bytes as views into the chunks, moving past them. */
  take(n: number): Buffer[] {
    const parts: Buffer[] = []
    this.rest -= n
    this.position += n
    while (n > 0) {
      this.#settle()
      const chunk = this.#chunks[this.#i]!
      const end = Math.min(chunk.length, this.#p + n)
      parts.push(chunk.subarray(this.#p, end))
      n -= end - this.#p
      this.#p = end
    }
    return parts
  }

  /** Moves off an exhausted chunk. */
  #settle(): void {
    while (this.#p === this.#chunks[this.#i]!.length && this.#i < this.#chunks.length - 1) {
      this.#i++
      this.#p = 0
    }
  }
}
