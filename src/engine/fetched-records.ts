import type { fetchV17 } from '@platformatic/kafka'
import { toOffset } from './offset-resolver.ts'
import { recordBytes } from './partition-buffer.ts'
import type { ConsumerRecord } from './types.ts'

const CONTROL_BATCH = 0x20
const TRANSACTIONAL_BATCH = 0x10
const LOG_APPEND_TIME = 0x08

type RecordBatches = NonNullable<fetchV17.FetchResponsePartition['records']>
type AbortedTransactions = fetchV17.FetchResponsePartitionAbortedTransaction[] | null

/**
 * A fetched record. A class, not an object literal, on purpose. V8 keeps an allocation site per
 * literal and, once the objects it allocated were seen to outlive a young-generation collection
 * (at start, say, while records wait for the application), allocates all later ones directly in
 * the old generation. Records there keep the young buffers of their keys and values alive
 * until a full collection, so consumption runs on full collections: measured, 20 mark-compacts
 * per 1M records instead of 2 and a third of the throughput gone (BENCHMARKS.md, "Processing
 * runtime"). Instances of a class have no allocation site.
 */
export class FetchedRecord implements ConsumerRecord {
  topic: string
  partition: number
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: Array<[Buffer | null, Buffer | null]>
  leaderEpoch: number

  constructor(
    topic: string,
    partition: number,
    offset: number,
    timestamp: number,
    key: Buffer | null,
    value: Buffer | null,
    headers: Array<[Buffer | null, Buffer | null]>,
    leaderEpoch: number,
  ) {
    this.topic = topic
    this.partition = partition
    this.offset = offset
    this.timestamp = timestamp
    this.key = key
    this.value = value
    this.headers = headers
    this.leaderEpoch = leaderEpoch
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
  batches: RecordBatches,
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
  for (const batch of batches) {
    const base = toOffset(batch.firstOffset)
    const last = base + batch.lastOffsetDelta
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
    const firstTimestamp = Number(logAppend ? batch.maxTimestamp : batch.firstTimestamp)
    const leaderEpoch = batch.partitionLeaderEpoch
    for (const r of batch.records) {
      const offset = base + r.offsetDelta
      if (offset < position) continue
      const record = new FetchedRecord(
        topic,
        partition,
        offset,
        logAppend ? firstTimestamp : firstTimestamp + Number(r.timestampDelta),
        r.key,
        r.value,
        r.headers,
        leaderEpoch,
      )
      bytes += recordBytes(record)
      records.push(record)
    }
    // The protocol layer's record array may itself live in the old generation (its allocation
    // site is shared by every array it decodes): emptied, it cannot keep its records, and their
    // buffers, alive until a full collection once they are taken and done.
    ;(batch.records as unknown[]).length = 0
    position = last + 1
  }
  return { records, bytes, position, lastEpoch }
}

function byFirstOffset(
  a: fetchV17.FetchResponsePartitionAbortedTransaction,
  b: fetchV17.FetchResponsePartitionAbortedTransaction,
): number {
  return a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0
}
