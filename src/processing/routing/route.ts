import type { ConsumedRecord } from '../record.ts'
import { hashesText } from './reducers.ts'

/**
 * How records are routed to one of `count` places — lanes of a partition (virtual partitions)
 * or segments of a group (parallel segments): `reducer(partitioner(record), count)`. Built once
 * per topic or group, never per record.
 */
export interface Routing {
  count: number
  partitioner: (record: ConsumedRecord<unknown>) => unknown
  reducer: (value: unknown, count: number) => number
}

/** Which user function failed to route a record. */
export type RoutingStage = 'partitioner' | 'reducer'

/** Told when a record's routing failed (it goes to place 0). */
export type RouteErrorReport = (stage: RoutingStage, error: Error, record: ConsumedRecord<unknown>) => void

const OBJECT_TEXT = /^\[object [^\]]*\]$/

/**
 * The place of a record in [0, count): `reducer(partitioner(record), count)`. A partitioner that
 * throws or returns a Promise (or, for the built-in reducers, which hash `String(value)`, an
 * object whose text is `[object …]`), or a reducer that throws or returns anything but an
 * integer in [0, count), sends the record to place 0, reported through `report`. One routine for
 * lanes and segments, so neither can accept what the other rejects. Allocates nothing unless a
 * routing fails (runs per record).
 */
export function route(record: ConsumedRecord<unknown>, routing: Routing, report?: RouteErrorReport): number {
  let value: unknown
  try {
    value = routing.partitioner(record)
    if (typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
      // Its text ("[object Promise]") would be every record's key: one place for all.
      throw new TypeError(
        'the partitioner returned a Promise: it must return the routing key itself (not an async function)',
      )
    }
    if (
      typeof value === 'object' &&
      value !== null &&
      !(value instanceof Uint8Array) &&
      hashesText(routing.reducer)
    ) {
      const text = String(value)
      // "[object Object]" would be every record's key: one place for all.
      if (OBJECT_TEXT.test(text)) {
        throw new TypeError(
          `the partitioner returned an object (${text}): return a string, number or bytes (e.g. r.headers.get('user_id')), or give a reducer that reads the object`,
        )
      }
    }
  } catch (error) {
    report?.('partitioner', asError(error), record)
    return 0
  }
  try {
    const id = routing.reducer(value, routing.count)
    if (!Number.isInteger(id) || id < 0 || id >= routing.count) {
      throw new RangeError(`reducer returned ${String(id)}; expected an integer in [0, ${routing.count})`)
    }
    return id
  } catch (error) {
    report?.('reducer', asError(error), record)
    return 0
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
