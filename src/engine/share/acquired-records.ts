import type { RecordBatch } from '../../kafka/apis/share-common.ts'
import { CONTROL_BATCH, LOG_APPEND_TIME } from '../../kafka/records/batches.ts'
import { RecordCursor } from '../../kafka/records/cursor.ts'
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

/** A class, not an object literal, for the reason given at {@link FetchedRecord}. */
class AcquiredRecord extends FetchedRecord implements ShareRecord {
  deliveryCount: number
  lockDeadline: number

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
    deliveryCount: number,
    lockDeadline: number,
  ) {
    super(topic, partition, offset, timestamp, leaderEpoch, data, keyAt, valueAt, headersAt, size)
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
  const cursor = new RecordCursor()
  let r = 0
  for (const batch of batches) {
    if (ranges.length === 0) break
    const base = batch.baseOffset
    if ((batch.attributes & CONTROL_BATCH) !== 0) continue
    const logAppend = (batch.attributes & LOG_APPEND_TIME) !== 0
    const firstTimestamp = logAppend ? batch.maxTimestamp : batch.firstTimestamp
    cursor.reset(batch)
    while (cursor.next()) {
      const offset = base + cursor.offsetDelta
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
          logAppend ? firstTimestamp : firstTimestamp + cursor.timestampDelta,
          batch.partitionLeaderEpoch,
          cursor.data,
          cursor.keyAt,
          cursor.valueAt,
          cursor.headersAt,
          cursor.size,
          range.deliveryCount,
          lockDeadline,
        ),
      )
    }
  }
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
