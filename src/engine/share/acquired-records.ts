import type { RecordBatch } from '../../kafka/apis/share-common.ts'
import { FetchedRecord } from '../fetched-records.ts'
import type { ShareRecord } from './types.ts'

/** An acquired range from a ShareFetch response (offsets inclusive). */
export interface AcquiredRange {
  firstOffset: number
  lastOffset: number
  deliveryCount: number
}

export interface DecodedAcquisition {
  /** Records inside the acquired ranges, in offset order. */
  records: ShareRecord[]
  /**
   * Acquired offsets with no record (transaction markers, compacted or aborted records): the
   * member must acknowledge them as GAP, or they stay locked until the lock times out.
   */
  gaps: number[]
}

const CONTROL_BATCH = 0x20
const LOG_APPEND_TIME = 0x08

/** A class, not an object literal, for the reason given at {@link FetchedRecord}. */
class AcquiredRecord extends FetchedRecord implements ShareRecord {
  deliveryCount: number
  lockDeadline: number

  constructor(
    topic: string,
    partition: number,
    offset: number,
    timestamp: number,
    key: Buffer | null,
    value: Buffer | null,
    headers: Array<[Buffer | null, Buffer | null]>,
    leaderEpoch: number,
    deliveryCount: number,
    lockDeadline: number,
  ) {
    super(topic, partition, offset, timestamp, key, value, headers, leaderEpoch)
    this.deliveryCount = deliveryCount
    this.lockDeadline = lockDeadline
  }
}

/**
 * The records this member acquired, from a ShareFetch partition: record batches come whole, so
 * only offsets inside the acquired ranges are delivered (with the range's delivery count); the
 * rest of a batch belongs to other members or is already done.
 */
export function decodeAcquired(
  topic: string,
  partition: number,
  batches: readonly RecordBatch[],
  acquired: readonly AcquiredRange[],
  lockDeadline: number,
): DecodedAcquisition {
  const ranges = [...acquired].sort((a, b) => a.firstOffset - b.firstOffset)
  const records: ShareRecord[] = []
  let r = 0
  for (const batch of batches) {
    if (ranges.length === 0) break
    const base = Number(batch.firstOffset)
    if ((batch.attributes & CONTROL_BATCH) !== 0) continue
    const logAppend = (batch.attributes & LOG_APPEND_TIME) !== 0
    const firstTimestamp = Number(logAppend ? batch.maxTimestamp : batch.firstTimestamp)
    for (const record of batch.records) {
      const offset = base + record.offsetDelta
      while (r < ranges.length && ranges[r]!.lastOffset < offset) r++
      if (r === ranges.length) break
      const range = ranges[r]!
      if (offset < range.firstOffset) continue
      const previous = records[records.length - 1]
      // A batch repeated in one response (never seen, but cheap to guard): keep the first.
      if (previous && previous.offset >= offset) continue
      records.push(
        new AcquiredRecord(
          topic,
          partition,
          offset,
          logAppend ? firstTimestamp : firstTimestamp + Number(record.timestampDelta),
          record.key ?? null,
          record.value ?? null,
          record.headers ?? [],
          batch.partitionLeaderEpoch,
          range.deliveryCount,
          lockDeadline,
        ),
      )
    }
  }
  // Emptied, the protocol layer's arrays cannot keep delivered records alive (see FetchedRecord).
  for (const batch of batches) (batch.records as unknown[]).length = 0
  return { records, gaps: gapsOf(ranges, records) }
}

function gapsOf(ranges: readonly AcquiredRange[], records: readonly ShareRecord[]): number[] {
  const gaps: number[] = []
  let i = 0
  for (const range of ranges) {
    for (let offset = range.firstOffset; offset <= range.lastOffset; offset++) {
      while (i < records.length && records[i]!.offset < offset) i++
      if (records[i]?.offset !== offset) gaps.push(offset)
    }
  }
  return gaps
}
