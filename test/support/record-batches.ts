// Record batches for tests: decoded by multilane's decoder (src/kafka/records/), and their
// records read out whole, field by field.
import { type RecordBatch, readRecordBatches } from '../../src/kafka/records/batches.ts'
import { bytesAt, headersAt, RecordCursor } from '../../src/kafka/records/cursor.ts'

const SITE = { api: 'Test', version: 0 }

/**
 * The whole record batches in `bytes` (a cut last batch left out), cut in chunks of `chunk`
 * bytes as a response arrives from a socket.
 */
export function decodeBatches(bytes: Buffer, chunk = bytes.length): RecordBatch[] {
  const chunks: Buffer[] = []
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk))
  return readRecordBatches(chunks, SITE)
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
      key: bytesAt(cursor.data, cursor.keyAt),
      value: bytesAt(cursor.data, cursor.valueAt),
      headers: headersAt(cursor.data, cursor.headersAt),
    })
  }
  return out
}
