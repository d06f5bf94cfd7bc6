import { type InspectOptions, inspect } from 'node:util'
import type { FetchResponseAbortedTransaction } from '../kafka/apis/fetch-v17.ts'
import {
  CONTROL_BATCH,
  LOG_APPEND_TIME,
  type RecordBatch,
  TRANSACTIONAL_BATCH,
} from '../kafka/records/batches.ts'
import { bytesAt, headersAt, RecordCursor } from '../kafka/records/cursor.ts'
import { toOffset } from './offset-resolver.ts'
import type { ConsumerRecord } from './types.ts'

type AbortedTransactions = readonly FetchResponseAbortedTransaction[] | null

/**
 * A fetched record. A class, not an object literal, on purpose. V8 keeps an allocation site per
 * literal and, once the objects it allocated were seen to outlive a young-generation collection
 * (at start, say, while records wait for the application), allocates all later ones directly in
 * the old generation. Records there keep the young buffers of their keys and values alive
 * until a full collection, so consumption runs on full collections: measured, 20 mark-compacts
 * per 1M records instead of 2 and a third of the throughput gone (BENCHMARKS.md, "Processing
 * runtime"). Instances of a class have no allocation site.
 *
 * Key, value and headers are cut out of the fetched bytes on first access (and kept): a filter
 * that reads only the key never makes the value's Buffer, and no record pays for an empty
 * headers array nobody reads. Being accessors, they are not own properties: `{ ...record }`
 * does not copy them.
 */
export class FetchedRecord implements ConsumerRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  leaderEpoch: number
  readonly #data: Buffer
  readonly #keyAt: number
  readonly #valueAt: number
  readonly #headersAt: number
  readonly #size: number
  #key: Buffer | null | undefined = undefined
  #value: Buffer | null | undefined = undefined
  #headers: Array<[Buffer | null, Buffer | null]> | undefined = undefined

  /** `keyAt`, `valueAt`, `headersAt` and `size` are a {@link RecordCursor}'s, over `data`. */
  constructor(
    topic: string,
    partition: number,
    offset: number,
    timestamp: number,
    leaderEpoch: number,
    data: Buffer,
    keyAt: number,
    valueAt: number,
    headersAt: number,
    size: number,
  ) {
    this.topic = topic
    this.partition = partition
    this.offset = offset
    this.timestamp = timestamp
    this.leaderEpoch = leaderEpoch
    this.#data = data
    this.#keyAt = keyAt
    this.#valueAt = valueAt
    this.#headersAt = headersAt
    this.#size = size
  }

  get key(): Buffer | null {
    if (this.#key === undefined) this.#key = bytesAt(this.#data, this.#keyAt)
    return this.#key
  }

  set key(key: Buffer | null) {
    this.#key = key
  }

  get value(): Buffer | null {
    if (this.#value === undefined) this.#value = bytesAt(this.#data, this.#valueAt)
    return this.#value
  }

  set value(value: Buffer | null) {
    this.#value = value
  }

  /** Headers in wire order; an array of this record's own (callers may change it). */
  get headers(): Array<[Buffer | null, Buffer | null]> {
    if (this.#headers === undefined) this.#headers = headersAt(this.#data, this.#headersAt)
    return this.#headers
  }

  set headers(headers: Array<[Buffer | null, Buffer | null]>) {
    this.#headers = headers
  }

  /** Key and value bytes as fetched (what buffers count), without cutting them out. */
  get fetchedSize(): number {
    return this.#size
  }

  /**
   * A plain copy with key, value and headers as own properties: what `JSON.stringify` writes
   * (accessors are not own properties, so without it they would be missing) and what
   * `console.log` shows. Subclasses' own fields (a share record's delivery count) are kept.
   */
  toJSON(): ConsumerRecord {
    return { ...this, key: this.key, value: this.value, headers: this.headers }
  }

  [inspect.custom](_depth: number, options: InspectOptions, show: typeof inspect): string {
    return `${this.constructor.name} ${show(this.toJSON(), options)}`
  }
}

/** What one partition's record batches of a fetch response hold from `from` on. */
export interface DecodedRecords {
  records: ConsumerRecord[]
  bytes: number
  /** The next offset to fetch: past every batch read, control and aborted ones included. */
  position: number
  /** Leader epoch of the last batch read, or -1 when none was. */
  lastEpoch: number
}

/**
 * Decodes record batches into raw records from offset `from` on. Control batches (transaction
 * markers) and, with `readCommitted`, batches of aborted transactions are passed over: they
 * move `position` without producing records.
 */
export function decodeRecords(
  topic: string,
  partition: number,
  from: number,
  batches: readonly RecordBatch[],
  abortedTransactions: AbortedTransactions,
  readCommitted: boolean,
): DecodedRecords {
  const aborted =
    readCommitted && abortedTransactions?.length ? [...abortedTransactions].sort(byFirstOffset) : []
  const abortedProducers = new Set<bigint>()
  let abortedIndex = 0
  const records: ConsumerRecord[] = []
  let bytes = 0
  let position = from
  let lastEpoch = -1
  const cursor = new RecordCursor()
  for (const batch of batches) {
    const base = batch.baseOffset
    const last = base + batch.lastOffsetDelta
    // Offsets are decoded as Numbers: one past 2^53 - 1 is refused rather than rounded.
    if (last > Number.MAX_SAFE_INTEGER) toOffset(BigInt(base) + BigInt(batch.lastOffsetDelta))
    if (last < position) continue
    lastEpoch = batch.partitionLeaderEpoch
    if (readCommitted) {
      while (abortedIndex < aborted.length && aborted[abortedIndex]!.firstOffset <= BigInt(last)) {
        abortedProducers.add(aborted[abortedIndex]!.producerId)
        abortedIndex++
      }
    }
    if ((batch.attributes & CONTROL_BATCH) !== 0) {
      // A transaction marker: nothing to hand over; it closes the producer's aborted range.
      abortedProducers.delete(batch.producerId)
      position = last + 1
      continue
    }
    if (
      readCommitted &&
      (batch.attributes & TRANSACTIONAL_BATCH) !== 0 &&
      abortedProducers.has(batch.producerId)
    ) {
      position = last + 1
      continue
    }
    const logAppend = (batch.attributes & LOG_APPEND_TIME) !== 0
    const firstTimestamp = logAppend ? batch.maxTimestamp : batch.firstTimestamp
    const leaderEpoch = batch.partitionLeaderEpoch
    cursor.reset(batch)
    while (cursor.next()) {
      const offset = base + cursor.offsetDelta
      if (offset < position) continue
      records.push(
        new FetchedRecord(
          topic,
          partition,
          offset,
          logAppend ? firstTimestamp : firstTimestamp + cursor.timestampDelta,
          leaderEpoch,
          cursor.data,
          cursor.keyAt,
          cursor.valueAt,
          cursor.headersAt,
          cursor.size,
        ),
      )
      bytes += cursor.size
    }
    position = last + 1
  }
  return { records, bytes, position, lastEpoch }
}

function byFirstOffset(a: FetchResponseAbortedTransaction, b: FetchResponseAbortedTransaction): number {
  return a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0
}
