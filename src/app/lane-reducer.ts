/**
 * The default reducer: maps a partitioner value to a lane. Its output decides which lane (and,
 * with parallel segments, which process) sees a key, so it must never change between versions:
 * the tests pin golden values.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5
const FNV_PRIME = 0x01000193
const encoder = new TextEncoder()

/** FNV-1a, 32 bits, over the given bytes. */
export function fnv1a32(bytes: Uint8Array): number {
  let hash = FNV_OFFSET_BASIS
  for (const byte of bytes) {
    hash ^= byte
    hash = Math.imul(hash, FNV_PRIME)
  }
  return hash >>> 0
}

/**
 * MurmurHash3's 32-bit finalizer. FNV-1a's low k bits depend only on the low k bits of each
 * byte, so without it `hash % 16` puts "A" and "a" (0x41, 0x61) in the same lane every time.
 */
function avalanche(hash: number): number {
  let h = hash
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The bytes a value is hashed over: bytes as they are, anything else as the UTF-8 of `String(value)`. */
function bytesOf(value: unknown): Uint8Array {
  // Binary keys are hashed as they are: decoding them as UTF-8 would merge invalid sequences.
  if (value instanceof Uint8Array) return value
  return encoder.encode(String(value))
}

/**
 * Default lane reducer: FNV-1a (32-bit, with a final avalanche) over the UTF-8 of
 * `String(value)` (a Buffer/Uint8Array over its bytes, which is the same for UTF-8 text),
 * modulo `maxPartitions`. `null` and `undefined` go to lane 0.
 */
export function defaultLaneReducer(value: unknown, maxPartitions: number): number {
  if (value === null || value === undefined) return 0
  return avalanche(fnv1a32(bytesOf(value))) % maxPartitions
}
