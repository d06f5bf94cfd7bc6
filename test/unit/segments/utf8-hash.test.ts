// The default segment (and lane) reducer hashes strings without encoding them (fnv1a32Utf8): it
// must give exactly what hashing their UTF-8 bytes gives, or keys would move between segments.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { defaultLaneReducer, fnv1a32, fnv1a32Utf8 } from '../../../src/processing/routing/reducers.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'

const encoder = new TextEncoder()
/** Any UTF-16 code units, lone surrogates included. */
const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) })

describe('fnv1a32Utf8', () => {
  it('equals FNV-1a over the UTF-8 bytes (TextEncoder) for any string', () => {
    fc.assert(
      fc.property(fc.oneof(codeUnits, fc.string({ unit: 'grapheme' }), fc.string()), (text) => {
        assert.equal(fnv1a32Utf8(text), fnv1a32(encoder.encode(text)))
      }),
      { numRuns: 5000 },
    )
  })

  it('covers every UTF-8 length and the surrogate cases', () => {
    for (const text of [
      '',
      'a',
      'é',
      '€',
      '😀',
      'a😀b',
      '\ud800',
      '\udc00',
      'x\ud83dy',
      '\ud83d',
      '\u07ff\u0800\uffff',
    ]) {
      assert.equal(fnv1a32Utf8(text), fnv1a32(encoder.encode(text)), JSON.stringify(text))
    }
  })

  it('a string and its UTF-8 bytes reduce to the same segment', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 64 }), (text, count) => {
        assert.equal(defaultSegmentReducer(text, count), defaultSegmentReducer(Buffer.from(text), count))
        assert.equal(defaultLaneReducer(text, count), defaultLaneReducer(encoder.encode(text), count))
      }),
      { numRuns: 2000 },
    )
  })
})
