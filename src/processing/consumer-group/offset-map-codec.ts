/**
 * Offset map codec: the set of offsets that are done above a partition's committed offset,
 * as a compact ASCII token stored in the OffsetCommit metadata string. After a restart or
 * reassignment the new owner decodes it and skips those records.
 *
 * Token format
 * ------------
 *   token   = kind payload            ('' encodes the empty set)
 *   payload = base64url bytes, RFC 4648 §5 alphabet, no padding, canonical
 *
 *   kind 'r'  run length. Unsigned LEB128 varints of alternating run lengths relative to
 *             `committed + 1`: not-done, done, not-done, done, … The first not-done run may
 *             be 0 (when `committed + 1` is done); every other run is ≥ 1. The payload ends
 *             with a done run: everything after the last done run is implicitly not done.
 *   kind 'b'  bitset. Varint bit length L, then ceil(L / 8) bytes; bit i (byte i >> 3,
 *             bit i & 7, least significant first) is set when `committed + 1 + i` is done.
 *             L ≥ 1, bit L - 1 is set, and the unused high bits of the last byte are zero.
 *   kind 'R'  the 'r' payload compressed with raw deflate (RFC 1951, node:zlib deflateRaw).
 *   kind 'B'  the 'b' payload compressed with raw deflate.
 *
 * Offsets are relative to the committed offset, so the token is only meaningful together
 * with the offset it was committed with. The kind character doubles as the format version:
 * a new layout gets a new character, so old tokens stay readable.
 *
 * The encoder builds every candidate and keeps the shortest (ties go to the earlier kind in
 * the order r, b, R, B). Compressed variants are only tried when the raw payload is above
 * COMPRESS_THRESHOLD_BYTES, where deflate's own framing stops costing more than it saves.
 * The decoder accepts only the canonical forms the encoder writes, so a corrupted token
 * fails loudly instead of silently skipping records that were never processed.
 */

import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { MultilaneError } from '../../errors.ts'

/** Raw payloads above this many bytes also get a deflate-compressed candidate. */
export const COMPRESS_THRESHOLD_BYTES = 64

/**
 * The most offsets one token may hold: the encoder refuses more, the decoder rejects more, so
 * no map is ever written that cannot be read back. A few bytes of run-length can describe
 * billions of offsets; the cap keeps a corrupt or hostile token from exhausting memory. Far
 * above what the tracker's window lets pile up (offset-commit-progress.ts).
 */
export const MAX_OFFSET_MAP_OFFSETS = 4_194_304

/** Cap on the inflated size of a compressed payload (deflate bomb protection). */
export const MAX_INFLATED_BYTES = 16 * 1024 * 1024

/**
 * A bitset candidate is only built when its raw size is at most this many times the raw
 * run-length size. Above that it cannot beat 'r' uncompressed, and only contrived inputs
 * let deflate close such a gap; skipping it keeps sparse sets over huge ranges cheap.
 */
const BITSET_MAX_RATIO = 4

const KIND_RUNS = 'r'
const KIND_BITSET = 'b'
const KIND_RUNS_DEFLATED = 'R'
const KIND_BITSET_DEFLATED = 'B'

const TWO_POW_31 = 2 ** 31
/** A varint of a safe integer (≤ 2^53 - 1) needs at most 8 bytes of 7 bits. */
const MAX_VARINT_BYTES = 8

/** Thrown when the arguments to {@link encodeOffsetMap} break its contract. */
export class OffsetMapEncodeError extends MultilaneError<'OFFSET_MAP_ENCODE'> {
  constructor(message: string) {
    super('OFFSET_MAP_ENCODE', message)
  }
}

/** Thrown when a token cannot be decoded; no partial result is ever returned. */
export class OffsetMapDecodeError extends MultilaneError<'OFFSET_MAP_DECODE'> {
  constructor(message: string, options?: ErrorOptions) {
    super('OFFSET_MAP_DECODE', message, options)
  }
}

/** Options for {@link decodeOffsetMap}. */
export interface DecodeOffsetMapOptions {
  /** Maximum number of offsets the token may decode to (default MAX_OFFSET_MAP_OFFSETS). */
  maxOffsets?: number
}

/** Growable byte buffer for varint output. */
class ByteWriter {
  buf: Uint8Array
  len = 0

  constructor(initialCapacity: number) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity))
  }

  varint(value: number): void {
    if (this.len + MAX_VARINT_BYTES > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2 + MAX_VARINT_BYTES)
      next.set(this.buf.subarray(0, this.len))
      this.buf = next
    }
    const buf = this.buf
    let v = value
    // Bitwise ops only work on 32-bit values; run lengths can reach 2^53.
    while (v >= TWO_POW_31) {
      buf[this.len++] = (v % 128) | 0x80
      v = Math.floor(v / 128)
    }
    while (v >= 0x80) {
      buf[this.len++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    buf[this.len++] = v
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len)
  }
}

function varintLength(value: number): number {
  let n = 1
  let v = value
  while (v >= 0x80) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

function checkCommitted(committed: number, ErrorClass: new (message: string) => Error): void {
  if (!Number.isSafeInteger(committed) || committed < 0) {
    throw new ErrorClass(`committed offset must be a non-negative safe integer, got ${committed}`)
  }
}

/** Run-length payload; also validates `done` (sorted, distinct, safe integers > committed). */
function encodeRuns(committed: number, done: readonly number[]): Uint8Array {
  const n = done.length
  const writer = new ByteWriter(n * 3 + 8)
  // First offset not yet covered by a written run.
  let next = committed + 1
  let i = 0
  while (i < n) {
    const start = done[i]!
    if (!Number.isSafeInteger(start) || start < next) {
      throw new OffsetMapEncodeError(
        i === 0
          ? `done offsets must be safe integers above the committed offset ${committed}, got ${start}`
          : `done offsets must be sorted ascending without duplicates: ${done[i - 1]} then ${start}`,
      )
    }
    let end = start
    let j = i + 1
    while (j < n && done[j] === end + 1) {
      end++
      j++
    }
    writer.varint(start - next)
    writer.varint(j - i)
    next = end + 1
    i = j
  }
  return writer.bytes()
}

/** Bitset payload; `done` must already be validated. */
function encodeBitset(committed: number, done: readonly number[], bitLength: number): Uint8Array {
  const header = varintLength(bitLength)
  const writer = new ByteWriter(header)
  writer.varint(bitLength)
  const out = new Uint8Array(header + Math.ceil(bitLength / 8))
  out.set(writer.bytes())
  const base = committed + 1
  for (let k = 0; k < done.length; k++) {
    const bit = done[k]! - base
    out[header + (bit >>> 3)]! |= 1 << (bit & 7)
  }
  return out
}

/**
 * Encodes the offsets done above `committed` into an offset map token.
 *
 * @param committed the committed offset (itself by definition not done)
 * @param done sorted ascending, distinct, every element > committed
 * @returns the shortest token among the supported kinds, or '' for an empty set
 */
export function encodeOffsetMap(committed: number, done: readonly number[]): string {
  checkCommitted(committed, OffsetMapEncodeError)
  if (done.length === 0) return ''
  if (done.length > MAX_OFFSET_MAP_OFFSETS) {
    throw new OffsetMapEncodeError(
      `${done.length} offsets exceed the ${MAX_OFFSET_MAP_OFFSETS} an offset map may hold (the decoder would reject it)`,
    )
  }

  const runs = encodeRuns(committed, done)
  let bestKind = KIND_RUNS
  let best: Uint8Array = runs
  const consider = (kind: string, payload: Uint8Array): void => {
    if (payload.length < best.length) {
      bestKind = kind
      best = payload
    }
  }

  const bitLength = done[done.length - 1]! - committed
  const bitsetBytes = varintLength(bitLength) + Math.ceil(bitLength / 8)
  let bitset: Uint8Array | undefined
  // The bit index arithmetic below is 32-bit; such a bitset could never win anyway.
  if (bitsetBytes <= runs.length * BITSET_MAX_RATIO && bitLength < TWO_POW_31) {
    bitset = encodeBitset(committed, done, bitLength)
    consider(KIND_BITSET, bitset)
  }
  if (runs.length > COMPRESS_THRESHOLD_BYTES) consider(KIND_RUNS_DEFLATED, deflateRawSync(runs))
  if (bitset !== undefined && bitset.length > COMPRESS_THRESHOLD_BYTES) {
    consider(KIND_BITSET_DEFLATED, deflateRawSync(bitset))
  }

  return bestKind + Buffer.from(best.buffer, best.byteOffset, best.length).toString('base64url')
}

/** Reads canonical unsigned LEB128 varints from a byte array. */
class ByteReader {
  readonly buf: Uint8Array
  pos = 0

  constructor(buf: Uint8Array) {
    this.buf = buf
  }

  get remaining(): number {
    return this.buf.length - this.pos
  }

  varint(): number {
    const buf = this.buf
    let value = 0
    let scale = 1
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= buf.length) throw new OffsetMapDecodeError('truncated varint')
      const byte = buf[this.pos++]!
      value += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0) throw new OffsetMapDecodeError('non-canonical varint (trailing zero byte)')
        if (!Number.isSafeInteger(value)) throw new OffsetMapDecodeError('varint exceeds 2^53 - 1')
        return value
      }
      scale *= 128
    }
    throw new OffsetMapDecodeError(`varint longer than ${MAX_VARINT_BYTES} bytes`)
  }
}

function decodeRuns(committed: number, payload: Uint8Array, maxOffsets: number): number[] {
  const reader = new ByteReader(payload)
  const out: number[] = []
  let next = committed + 1
  let runIndex = 0
  while (reader.remaining > 0) {
    const length = reader.varint()
    if (runIndex % 2 === 0) {
      if (length === 0 && runIndex > 0) throw new OffsetMapDecodeError(`zero-length run at index ${runIndex}`)
      next += length
    } else {
      if (length === 0) throw new OffsetMapDecodeError(`zero-length run at index ${runIndex}`)
      if (out.length + length > maxOffsets) {
        throw new OffsetMapDecodeError(`offset map holds more than ${maxOffsets} offsets`)
      }
      const end = next + length - 1
      if (!Number.isSafeInteger(end)) throw new OffsetMapDecodeError('runs overflow past 2^53 - 1')
      for (let o = next; o <= end; o++) out.push(o)
      next = end + 1
    }
    runIndex++
  }
  if (runIndex === 0) throw new OffsetMapDecodeError('empty run-length payload')
  if (runIndex % 2 === 1) throw new OffsetMapDecodeError('run-length payload ends with a not-done run')
  return out
}

function decodeBitset(committed: number, payload: Uint8Array, maxOffsets: number): number[] {
  const reader = new ByteReader(payload)
  const bitLength = reader.varint()
  if (bitLength === 0) throw new OffsetMapDecodeError('bitset length is 0')
  const byteLength = Math.ceil(bitLength / 8)
  if (reader.remaining !== byteLength) {
    throw new OffsetMapDecodeError(
      `bitset of ${bitLength} bits needs ${byteLength} bytes, payload has ${reader.remaining}`,
    )
  }
  if (!Number.isSafeInteger(committed + bitLength)) {
    throw new OffsetMapDecodeError('bitset overflows past 2^53 - 1')
  }
  const bits = payload.subarray(reader.pos)
  const lastBit = bitLength - 1
  if ((bits[lastBit >>> 3]! & (1 << (lastBit & 7))) === 0) {
    throw new OffsetMapDecodeError('bitset last bit is not set')
  }
  if (bits[lastBit >>> 3]! >>> ((lastBit & 7) + 1) !== 0) {
    throw new OffsetMapDecodeError('bitset has bits set beyond its length')
  }
  const out: number[] = []
  const base = committed + 1
  for (let i = 0; i < bits.length; i++) {
    let byte = bits[i]!
    if (byte === 0) continue
    const offset = base + i * 8
    while (byte !== 0) {
      // Lowest set bit first keeps the output sorted.
      const low = byte & -byte
      out.push(offset + 31 - Math.clz32(low))
      byte ^= low
    }
    if (out.length > maxOffsets)
      throw new OffsetMapDecodeError(`offset map holds more than ${maxOffsets} offsets`)
  }
  return out
}

function inflate(payload: Uint8Array): Uint8Array {
  try {
    return inflateRawSync(payload, { maxOutputLength: MAX_INFLATED_BYTES })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new OffsetMapDecodeError(`cannot inflate compressed payload: ${reason}`, { cause: error })
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/

function decodeBase64url(text: string): Uint8Array {
  if (!BASE64URL.test(text))
    throw new OffsetMapDecodeError('payload is not base64url (bad character or padding)')
  const bytes = Buffer.from(text, 'base64url')
  // Buffer.from is lenient about lengths and trailing bits; accept only the canonical form.
  if (bytes.toString('base64url') !== text)
    throw new OffsetMapDecodeError('payload is not canonical base64url')
  return bytes
}

/**
 * Decodes an offset map token written by {@link encodeOffsetMap} for the same committed offset.
 *
 * @returns the done offsets, sorted ascending ('' decodes to [])
 * @throws OffsetMapDecodeError for any malformed token
 */
export function decodeOffsetMap(
  committed: number,
  token: string,
  options?: DecodeOffsetMapOptions,
): number[] {
  checkCommitted(committed, OffsetMapDecodeError)
  if (token === '') return []
  const maxOffsets = options?.maxOffsets ?? MAX_OFFSET_MAP_OFFSETS
  const kind = token[0]
  const text = token.slice(1)
  if (text === '') throw new OffsetMapDecodeError(`token of kind '${kind}' has an empty payload`)
  switch (kind) {
    case KIND_RUNS:
      return decodeRuns(committed, decodeBase64url(text), maxOffsets)
    case KIND_BITSET:
      return decodeBitset(committed, decodeBase64url(text), maxOffsets)
    case KIND_RUNS_DEFLATED:
      return decodeRuns(committed, inflate(decodeBase64url(text)), maxOffsets)
    case KIND_BITSET_DEFLATED:
      return decodeBitset(committed, inflate(decodeBase64url(text)), maxOffsets)
    default:
      throw new OffsetMapDecodeError(`unknown offset map kind ${JSON.stringify(kind)}`)
  }
}
