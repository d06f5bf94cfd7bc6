/**
 * Reducers map a partitioner's value to a segment id in [0, count). Their output decides which
 * process sees a record, so they must never change between versions: the tests pin golden
 * values.
 */
import { defaultLaneReducer } from '../app/lane-reducer.ts'

/**
 * The default segment reducer: a stable, well-spread hash (FNV-1a over the value's bytes with a
 * final avalanche — the lane reducer's) modulo `count`. Strings hash their UTF-8 bytes, numbers
 * and other values the text of `String(value)`, Buffers their bytes; `null` and `undefined` go
 * to segment 0.
 */
export function defaultSegmentReducer(value: unknown, count: number): number {
  return defaultLaneReducer(value, count)
}

const encoder = new TextEncoder()

/**
 * Karafka's default reducer, for teams migrating from Karafka with its routing kept: the sum of
 * the value's UTF-8 bytes (Ruby's `String#sum`, 16 bits) modulo `count`. `null`/`undefined`
 * read as "" (Ruby's `nil.to_s`), segment 0. It spreads poorly ("0" and "5" collide with 5
 * segments); prefer {@link defaultSegmentReducer} for new groups.
 */
export function karafkaReducer(value: unknown, count: number): number {
  const bytes =
    value instanceof Uint8Array
      ? value
      : encoder.encode(value === null || value === undefined ? '' : String(value))
  let sum = 0
  for (const b of bytes) sum += b
  return (sum & 0xffff) % count
}
