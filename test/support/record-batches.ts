// Record batches for tests: decoded by multilane's decoder (src/kafka/record-batches.ts), and
// their records read out whole, field by field.
import {
  bytesAt,
  headersAt,
  type RecordBatch,
  RecordCursor,
  readRecordBatches,
} from '../../src/kafka/record-batches.ts'

const SITE = { api: 'Test', version: 0 }

/** The whole record batches in `bytes` (a cut last batch left out). */
export function decodeBatches(bytes: Buffer): RecordBatch[] {
  return readRecordBatches(bytes, SITE)
}

/** A record of a batch with every field read. */
export interface PlainRecord {
  offsetDelta: number
  timestampDelta: number
  key: Buffer | null
  value: Buffer | null
  headers: Array<[Buffer | null, Buffer | null]>
}

/** Every record of a batch, in order. */
export function recordsOf(batch: RecordBatch): PlainRecord[] {
  const cursor = new RecordCursor().reset(batch)
  const out: PlainRecord[] = []
  while (cursor.next()) {
    out.push({
      offsetDelta: cursor.offsetDelta,
      timestampDelta: cursor.timestampDelta,
      key: bytesAt(batch.data, cursor.keyAt),
      value: bytesAt(batch.data, cursor.valueAt),
      headers: headersAt(batch.data, cursor.headersAt),
    })
  }
  return out
}
