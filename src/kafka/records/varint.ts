// Zigzag varints as record batches use them, read without a [value, read] tuple: each function
// returns the value and leaves the position after it in `next`. Reads past the buffer see
// `undefined`, i.e. 0 and no continuation: callers compare `next` with their limit.

/** The position after the last varint read. */
export let next = 0

/** A zigzag VARINT (at most 5 bytes) at `p`. */
export function varint(b: Buffer, p: number): number {
  let byte = b[p++]!
  let raw = byte & 0x7f
  if (byte >= 0x80) {
    byte = b[p++]!
    raw |= (byte & 0x7f) << 7
    if (byte >= 0x80) {
      byte = b[p++]!
      raw |= (byte & 0x7f) << 14
      if (byte >= 0x80) {
        byte = b[p++]!
        raw |= (byte & 0x7f) << 21
        if (byte >= 0x80) {
          byte = b[p++]!
          // A sixth byte would not fit 32 bits: leave `next` past any limit.
          if (byte >= 0x80) p = Number.MAX_SAFE_INTEGER
          raw |= (byte & 0x0f) << 28
        }
      }
    }
  }
  next = p
  return (raw >>> 1) ^ -(raw & 1)
}

/** A zigzag VARLONG (at most 10 bytes) at `p`, as a Number (exact up to 2^53). */
export function varlong(b: Buffer, p: number): number {
  let byte = b[p++]!
  if (byte < 0x80) {
    next = p
    return (byte >>> 1) ^ -(byte & 1)
  }
  let raw = byte & 0x7f
  let scale = 128
  for (let i = 1; ; i++) {
    byte = b[p++]!
    raw += (byte & 0x7f) * scale
    if (!(byte >= 0x80)) break
    if (i === 9) {
      p = Number.MAX_SAFE_INTEGER
      break
    }
    scale *= 128
  }
  next = p
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
}
