/**
 * The built-in reducers: map a partitioner value to a lane or a segment in [0, count). Their
 * output decides which lane (and, with parallel segments, which process) sees a key, so it must
 * never change between versions: the tests pin golden values. They live beside `route`, which
 * needs to know which of them hash a value's text.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5
const FNV_PRIME = 0x01000193

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

/**
 * FNV-1a, 32 bits, over the UTF-8 encoding of `text` — `fnv1a32(new TextEncoder().encode(text))`
 * without encoding it: routing hashes a key per record in every segment, and the encoder's
 * allocation cost ten times the hash. Lone surrogates count as U+FFFD, as the encoder writes them.
 */
export function fnv1a32Utf8(text: string): number {
  let hash = FNV_OFFSET_BASIS
  const n = text.length
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i)
    if (c < 0x80) {
      hash = Math.imul(hash ^ c, FNV_PRIME)
      continue
    }
    if (c < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (c >> 6)), FNV_PRIME)
      hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), FNV_PRIME)
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: one code point above U+FFFF, four bytes.
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
        hash = Math.imul(hash ^ (0xf0 | (cp >> 18)), FNV_PRIME)
        hash = Math.imul(hash ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME)
        hash = Math.imul(hash ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME)
        hash = Math.imul(hash ^ (0x80 | (cp & 0x3f)), FNV_PRIME)
        continue
      }
      c = 0xfffd
    }
    hash = Math.imul(hash ^ (0xe0 | (c >> 12)), FNV_PRIME)
    hash = Math.imul(hash ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME)
    hash = Math.imul(hash ^ (0x80 | (c & 0x3f)), FNV_PRIME)
  }
  return hash >>> 0
}

/** The FNV-1a hash of a value: bytes as they are, anything else over the UTF-8 of `String(value)`. */
function hashOf(value: unknown): number {
  // Binary keys are hashed as they are: decoding them as UTF-8 would merge invalid sequences.
  if (value instanceof Uint8Array) return fnv1a32(value)
  return fnv1a32Utf8(typeof value === 'string' ? value : String(value))
}

/**
 * Default lane reducer: FNV-1a (32-bit, with a final avalanche) over the UTF-8 of
 * `String(value)` (a Buffer/Uint8Array over its bytes, which is the same for UTF-8 text),
 * modulo `maxPartitions`. `null` and `undefined` go to lane 0.
 */
export function defaultLaneReducer(value: unknown, maxPartitions: number): number {
  if (value === null || value === undefined) return 0
  return avalanche(hashOf(value)) % maxPartitions
}

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

/**
 * True for the built-in reducers, which hash `String(value)`: an object whose text is
 * `[object …]` would give every record one lane or segment. A custom reducer may read objects.
 */
export function hashesText(reducer: (value: unknown, count: number) => number): boolean {
  return reducer === defaultLaneReducer || reducer === defaultSegmentReducer || reducer === karafkaReducer
}
