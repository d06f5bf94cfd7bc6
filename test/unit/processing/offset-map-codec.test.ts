// The offset map codec: any set of done offsets above a committed offset round-trips in the
// smallest of its encodings, and malformed tokens or arguments are refused with typed errors.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deflateRawSync } from 'node:zlib'
import fc from 'fast-check'
import {
  decodeOffsetMap,
  encodeOffsetMap,
  OffsetMapDecodeError,
  OffsetMapEncodeError,
} from '../../../src/processing/consumer-group/offset-map-codec.ts'

const MAX_COMMITTED = 2 ** 40

/** A token of the given kind around raw payload bytes. */
function token(kind: string, bytes: readonly number[]): string {
  return kind + Buffer.from(bytes).toString('base64url')
}

function range(from: number, count: number, step = 1): number[] {
  return Array.from({ length: count }, (_, i) => from + i * step)
}

/** Sorted distinct offsets above `committed` built from (gap, run length) pairs. */
function fromRuns(committed: number, runs: readonly (readonly [number, number])[]): number[] {
  const out: number[] = []
  let next = committed + 1
  for (const [gap, length] of runs) {
    next += gap
    for (let i = 0; i < length; i++) out.push(next++)
    next++
  }
  return out
}

const committedArb = fc.integer({ min: 0, max: MAX_COMMITTED })

/** Offset sets of many shapes: empty, single, sparse, dense runs, mixed, large. */
const caseArb = committedArb.chain((committed) =>
  fc
    .oneof(
      fc.constant<number[]>([]),
      fc.integer({ min: 1, max: MAX_COMMITTED }).map((d) => [committed + d]),
      // Sparse: distinct deltas anywhere up to 2^40 above the committed offset.
      fc
        .uniqueArray(fc.integer({ min: 1, max: MAX_COMMITTED }), { maxLength: 300 })
        .map((ds) => ds.sort((a, b) => a - b).map((d) => committed + d)),
      // Dense: a few long runs with small gaps.
      fc
        .array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 2000 })), { maxLength: 8 })
        .map((runs) => fromRuns(committed, runs)),
      // Mixed: many short runs, gaps from tiny to huge.
      fc
        .array(
          fc.tuple(
            fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1_000_000 })),
            fc.integer({ min: 1, max: 20 }),
          ),
          { maxLength: 400 },
        )
        .map((runs) => fromRuns(committed, runs)),
      // Random bits over a window: the shape where bitsets win.
      fc
        .array(fc.boolean(), { maxLength: 3000 })
        .map((bits) => bits.flatMap((b, i) => (b ? [committed + 1 + i] : []))),
      // Periodic: a short run pattern repeated, the shape where compression wins.
      fc
        .tuple(
          fc.array(
            fc.tuple(
              fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 5000 })),
              fc.integer({ min: 1, max: 4 }),
            ),
            { minLength: 1, maxLength: 6 },
          ),
          fc.integer({ min: 1, max: 600 }),
        )
        .map(([pattern, times]) => fromRuns(committed, Array.from({ length: times }, () => pattern).flat())),
    )
    .map((done) => ({ committed, done })),
)

describe('offset map codec', () => {
  it('round-trips arbitrary sets of offsets above an arbitrary committed offset', () => {
    fc.assert(
      fc.property(caseArb, ({ committed, done }) => {
        const encoded = encodeOffsetMap(committed, done)
        assert.match(encoded, /^(|[rbRB][A-Za-z0-9_-]+)$/)
        assert.deepEqual(decodeOffsetMap(committed, encoded), done)
      }),
      { numRuns: 500 },
    )
  })

  it('round-trips large sets of 50k offsets, sparse and dense', () => {
    const large = committedArb.chain((committed) =>
      fc.oneof(
        fc
          .uniqueArray(fc.integer({ min: 1, max: MAX_COMMITTED }), { minLength: 50_000, maxLength: 50_000 })
          .map((ds) => ({ committed, done: ds.sort((a, b) => a - b).map((d) => committed + d) })),
        fc
          .array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 8 })), {
            minLength: 10_000,
            maxLength: 10_000,
          })
          .map((runs) => ({ committed, done: fromRuns(committed, runs).slice(0, 50_000) })),
      ),
    )
    fc.assert(
      fc.property(large, ({ committed, done }) => {
        assert.deepEqual(decodeOffsetMap(committed, encodeOffsetMap(committed, done)), done)
      }),
      { numRuns: 6 },
    )
  })

  it('encodes the empty set as the empty string and decodes it back', () => {
    assert.equal(encodeOffsetMap(42, []), '')
    assert.deepEqual(decodeOffsetMap(42, ''), [])
  })

  it('handles offsets just above the committed one and near 2^53', () => {
    const top = Number.MAX_SAFE_INTEGER
    for (const [committed, done] of [
      [0, [1]],
      [0, [1, 2, 3]],
      [top - 5, [top - 4, top - 2, top]],
      [0, [top]],
    ] as const) {
      assert.deepEqual(decodeOffsetMap(committed, encodeOffsetMap(committed, done)), done)
    }
  })

  it('encodes 4000 done offsets in one dense run in a few bytes', () => {
    const encoded = encodeOffsetMap(1_000_000, range(1_000_001, 4000))
    assert.equal(encoded[0], 'r')
    assert.ok(encoded.length <= 6, `token ${encoded} is ${encoded.length} chars`)
    // The same run after a not-done gap costs one more varint.
    assert.ok(encodeOffsetMap(1_000_000, range(1_000_500, 4000)).length <= 8)
  })

  describe('keeps the smallest kind', () => {
    it("'r' for long runs", () => {
      assert.equal(encodeOffsetMap(0, range(1, 4000))[0], 'r')
      assert.equal(encodeOffsetMap(0, [5])[0], 'r')
    })

    it("'b' for short alternating patterns", () => {
      const encoded = encodeOffsetMap(0, range(1, 20, 2))
      assert.equal(encoded[0], 'b')
      assert.ok(encoded.length < 12)
    })

    it("'R' for long regular run patterns over a wide range", () => {
      assert.equal(encodeOffsetMap(0, range(1000, 100, 1000))[0], 'R')
    })

    it("'B' for long regular bit patterns", () => {
      const done: number[] = []
      for (let k = 0; k < 4000; k++) {
        for (let b = 0; b < 8; b++) if ((0b10110101 >> b) & 1) done.push(1 + k * 8 + b)
      }
      const encoded = encodeOffsetMap(0, done)
      assert.equal(encoded[0], 'B')
      assert.ok(encoded.length < 64)
    })

    it('never loses to a hand-built uncompressed alternative', () => {
      fc.assert(
        fc.property(caseArb, ({ committed, done }) => {
          fc.pre(done.length > 0)
          const bits = done[done.length - 1]! - committed
          fc.pre(bits < 100_000)
          const bitset = Buffer.alloc(Math.ceil(bits / 8))
          for (const o of done) bitset[(o - committed - 1) >> 3]! |= 1 << ((o - committed - 1) & 7)
          // Base64 of the bits alone is a lower bound on any 'b' token (the varint length is extra).
          assert.ok(encodeOffsetMap(committed, done).length <= 1 + bitset.toString('base64url').length + 4)
        }),
        { numRuns: 200 },
      )
    })
  })

  describe('rejects invalid arguments to encode', () => {
    for (const [name, committed, done] of [
      ['an offset equal to the committed one', 10, [10, 11]],
      ['an offset below the committed one', 10, [5]],
      ['unsorted offsets', 0, [3, 2]],
      ['duplicates', 0, [2, 2]],
      ['a fractional offset', 0, [1.5]],
      ['a negative committed offset', -1, [1]],
      ['an unsafe offset', 0, [2 ** 53]],
    ] as const) {
      it(name, () => {
        assert.throws(() => encodeOffsetMap(committed, done), OffsetMapEncodeError)
      })
    }
  })

  describe('rejects malformed tokens with OffsetMapDecodeError', () => {
    const cases: [string, string][] = [
      ['unknown kind', token('x', [0, 1])],
      ['kind without payload', 'r'],
      ['bad base64 character', 'rAB!C'],
      ['base64 padding', 'rAA=='],
      ['standard base64 alphabet', 'r+/8A'],
      ['impossible base64 length', 'rAAAAA'],
      ['non-canonical base64 trailing bits', 'rAB'],
      ['truncated varint', token('r', [0x80])],
      ['truncated varint after runs', token('r', [0, 1, 0xff])],
      ['non-canonical varint', token('r', [0x81, 0x00, 0x01])],
      ['varint longer than 8 bytes', token('r', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1])],
      ['varint beyond 2^53', token('r', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1])],
      ['runs that overflow 2^53', token('r', [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 5])],
      ['payload ending with a not-done run', token('r', [0, 3, 2])],
      ['zero-length done run', token('r', [0, 0])],
      ['zero-length not-done run after the first', token('r', [0, 1, 0, 1])],
      ['bitset length 0', token('b', [0])],
      ['bitset shorter than its length', token('b', [16, 0xff])],
      ['bitset longer than its length', token('b', [8, 0xff, 0x00])],
      ['bitset whose last bit is clear', token('b', [8, 0x7f])],
      ['bitset with bits beyond its length', token('b', [4, 0x18])],
      ['truncated bitset length', token('b', [0x80])],
      ['compressed payload that is not deflate', token('R', [0xff, 0xff, 0xff, 0xff])],
      [
        'truncated deflate stream',
        token('B', [...Buffer.from('7cExDQAACAOw4HymMMeFjD1tc7MAAABA3QM', 'base64url')].slice(0, 10)),
      ],
    ]
    for (const [name, bad] of cases) {
      it(name, () => {
        assert.throws(
          () => decodeOffsetMap(100, bad),
          (error: unknown) =>
            error instanceof OffsetMapDecodeError &&
            error.code === 'OFFSET_MAP_DECODE' &&
            error.message.length > 0,
        )
      })
    }

    it('a bitset that overflows past 2^53', () => {
      assert.throws(
        () => decodeOffsetMap(Number.MAX_SAFE_INTEGER - 2, token('b', [8, 0x80])),
        OffsetMapDecodeError,
      )
    })

    it('more offsets than allowed, however few the bytes', () => {
      // One done run of 2^40 offsets in 7 bytes.
      assert.throws(
        () => decodeOffsetMap(0, token('r', [0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20])),
        OffsetMapDecodeError,
      )
      const dense = encodeOffsetMap(0, range(1, 1000))
      assert.throws(() => decodeOffsetMap(0, dense, { maxOffsets: 999 }), OffsetMapDecodeError)
      assert.equal(decodeOffsetMap(0, dense, { maxOffsets: 1000 }).length, 1000)
      // 199 bits, every other one set: 100 offsets.
      const bits = token('b', [0xc7, 0x01, ...new Array<number>(25).fill(0x55)])
      assert.equal(decodeOffsetMap(0, bits).length, 100)
      assert.throws(() => decodeOffsetMap(0, bits, { maxOffsets: 50 }), OffsetMapDecodeError)
    })

    it('an invalid committed offset', () => {
      assert.throws(() => decodeOffsetMap(-1, token('r', [0, 1])), OffsetMapDecodeError)
      assert.throws(() => decodeOffsetMap(0.5, ''), OffsetMapDecodeError)
    })

    it('any string: either a valid sorted set above committed, or OffsetMapDecodeError', () => {
      const anyToken = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc
          .tuple(fc.constantFrom('r', 'b', 'R', 'B', 'z'), fc.uint8Array({ minLength: 1, maxLength: 40 }))
          .map(([kind, bytes]) => kind + Buffer.from(bytes).toString('base64url')),
        // Valid deflate around random bytes, to reach the payload decoders behind inflate.
        fc
          .tuple(fc.constantFrom('R', 'B'), fc.uint8Array({ minLength: 1, maxLength: 40 }))
          .map(([kind, bytes]) => kind + deflateRawSync(bytes).toString('base64url')),
      )
      fc.assert(
        fc.property(committedArb, anyToken, (committed, text) => {
          let decoded: number[]
          try {
            decoded = decodeOffsetMap(committed, text, { maxOffsets: 100_000 })
          } catch (error) {
            assert.ok(error instanceof OffsetMapDecodeError, String(error))
            return
          }
          let previous = committed
          for (const o of decoded) {
            assert.ok(Number.isSafeInteger(o) && o > previous)
            previous = o
          }
          // Whatever decodes re-encodes to a token that decodes to the same set.
          assert.deepEqual(decodeOffsetMap(committed, encodeOffsetMap(committed, decoded)), decoded)
        }),
        { numRuns: 2000 },
      )
    })
  })
})
