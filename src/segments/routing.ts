import type { RecordFilter } from '../processing/dispatcher.ts'
import type { ConsumedRecord } from '../processing/record.ts'
import { defaultSegmentReducer, karafkaReducer } from './reducers.ts'

/** What routing needs of a segmented group's settings. */
export interface SegmentRouting {
  count: number
  partitioner: (record: ConsumedRecord<unknown>) => unknown
  reducer: (value: unknown, count: number) => number
}

/** Told when a record's routing failed (it goes to segment 0). */
export type RoutingErrorReport = (
  type: 'parallel_segments.partitioner.error' | 'parallel_segments.reducer.error',
  error: Error,
  record: ConsumedRecord<unknown>,
) => void

/**
 * The segment a record belongs to: `reducer(partitioner(record), count)`. A partitioner that
 * throws or returns a Promise (or, for the built-in reducers, which hash `String(value)`, an
 * object whose text is `[object …]`), or a reducer that throws or returns anything but an
 * integer in [0, count), sends the record to segment 0 (and to it only), reported through `report`.
 */
export function segmentOf(
  record: ConsumedRecord<unknown>,
  routing: SegmentRouting,
  report?: RoutingErrorReport,
): number {
  let value: unknown
  try {
    value = routing.partitioner(record)
    if (typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
      // Its text ("[object Promise]") would be every record's key: one segment for all.
      throw new TypeError(
        'the partitioner returned a Promise: it must return the routing key itself (not an async function)',
      )
    }
    if (
      typeof value === 'object' &&
      value !== null &&
      !(value instanceof Uint8Array) &&
      hashesText(routing)
    ) {
      const text = String(value)
      // "[object Object]" would be every record's key: one segment for all.
      if (OBJECT_TEXT.test(text)) {
        throw new TypeError(
          `the partitioner returned an object (${text}): return a string, number or bytes (e.g. r.headers.get('user_id')), or give a reducer that reads the object`,
        )
      }
    }
  } catch (error) {
    report?.('parallel_segments.partitioner.error', asError(error), record)
    return 0
  }
  try {
    const id = routing.reducer(value, routing.count)
    if (!Number.isInteger(id) || id < 0 || id >= routing.count) {
      throw new RangeError(`reducer returned ${String(id)}; expected an integer in [0, ${routing.count})`)
    }
    return id
  } catch (error) {
    report?.('parallel_segments.reducer.error', asError(error), record)
    return 0
  }
}

/**
 * The record filter of segment `segmentId`: keeps the records routed to it. Routing errors are
 * reported by segment 0 only — the segment that processes those records — so each is reported
 * once however many segments read it.
 */
export function segmentFilter(
  segmentId: number,
  routing: SegmentRouting,
  report: RoutingErrorReport,
): RecordFilter {
  const own = segmentId === 0 ? report : undefined
  return (record) => segmentOf(record, routing, own) === segmentId
}

const OBJECT_TEXT = /^\[object [^\]]*\]$/

/** The built-in reducers hash an object's `String(value)`; a custom reducer may read the object. */
function hashesText(routing: SegmentRouting): boolean {
  return routing.reducer === defaultSegmentReducer || routing.reducer === karafkaReducer
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
