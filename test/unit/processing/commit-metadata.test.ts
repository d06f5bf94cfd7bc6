// The commit metadata envelope (`ml1` prefix, fields, trailing NUL): it round-trips, carries an
// offset map with the offset it was written with, reads what older writers and tools leave,
// reports other clients' metadata as foreign, never throws on decode, and refuses bad values.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  CommitMetadataError,
  decodeCommitMetadata,
  encodeCommitMetadata,
  MAX_COMMIT_METADATA_BYTES,
} from '../../../src/processing/consumer-group/commit-metadata.ts'
import { decodeOffsetMap, encodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'

describe('commit metadata envelope', () => {
  it('encodes fields after the ml1 prefix, ending with a NUL', () => {
    assert.equal(encodeCommitMetadata({}), 'ml1\0')
    assert.equal(encodeCommitMetadata({ offsetMap: { base: 7, token: 'rAKAf' } }), 'ml1;ob=7;om=rAKAf\0')
    assert.equal(encodeCommitMetadata({ routing: 'v3' }), 'ml1;rf=v3\0')
    assert.equal(
      encodeCommitMetadata({ offsetMap: { base: 0, token: 'bJ1V' }, routing: 'abc' }),
      'ml1;ob=0;om=bJ1V;rf=abc\0',
    )
  })

  it('round-trips', () => {
    const value = fc.option(fc.stringMatching(/^[^;=\0]*$/), { nil: undefined })
    const base = fc.nat()
    fc.assert(
      fc.property(value, value, base, (token, routing, b) => {
        const offsetMap = token ? { base: b, token } : undefined
        const decoded = decodeCommitMetadata(encodeCommitMetadata({ offsetMap, routing }))
        // Empty and absent values mean the same thing.
        assert.deepEqual(decoded, {
          foreign: false,
          ...(offsetMap ? { offsetMap } : {}),
          ...(routing ? { routing } : {}),
        })
      }),
    )
  })

  it('carries an offset map token with the offset it was written with', () => {
    const done = [105, 106, 107, 200]
    const decoded = decodeCommitMetadata(
      encodeCommitMetadata({ offsetMap: { base: 100, token: encodeOffsetMap(100, done) } }),
    )
    assert.equal(decoded.offsetMap?.base, 100)
    assert.deepEqual(decodeOffsetMap(100, decoded.offsetMap?.token ?? ''), done)
  })

  it('reports a map without a (well-formed) base, so it is not used', () => {
    assert.deepEqual(decodeCommitMetadata('ml1;om=rAKAf'), {
      foreign: false,
      offsetMap: { base: undefined, token: 'rAKAf' },
    })
    for (const bad of ['-1', '01', '1e3', 'x', '99999999999999999'])
      assert.equal(decodeCommitMetadata(`ml1;ob=${bad};om=r1`).offsetMap?.base, undefined, bad)
  })

  it('reads what it wrote with or without the trailing NUL (older writers, tools that strip it)', () => {
    assert.deepEqual(decodeCommitMetadata('ml1;ob=3;om=r1'), decodeCommitMetadata('ml1;ob=3;om=r1\0'))
  })

  it('reports metadata from other clients as foreign', () => {
    for (const s of [
      null,
      '',
      '\0',
      'ml',
      'ML1;om=x',
      'ml2;om=x',
      'ml10;om=x',
      'ml1x',
      ' ml1',
      '{"json":true}',
    ]) {
      assert.deepEqual(decodeCommitMetadata(s), { foreign: true }, String(s))
    }
  })

  it('ignores unknown keys, empty values and pairs without =', () => {
    assert.deepEqual(decodeCommitMetadata('ml1;zz=1;ob=4;om=rAKAf;flag;;rf=;new=a'), {
      foreign: false,
      offsetMap: { base: 4, token: 'rAKAf' },
    })
    assert.deepEqual(decodeCommitMetadata('ml1;rf=r1;ob=0;om=b1'), {
      foreign: false,
      offsetMap: { base: 0, token: 'b1' },
      routing: 'r1',
    })
    assert.deepEqual(decodeCommitMetadata('ml1'), { foreign: false })
    assert.deepEqual(decodeCommitMetadata('ml1;'), { foreign: false })
  })

  it('never throws on decode', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `ml1;${s}`),
        ),
        (s) => {
          const decoded = decodeCommitMetadata(s)
          assert.equal(typeof decoded.foreign, 'boolean')
        },
      ),
    )
  })

  it('refuses values containing ;, = or NUL, and a bad base', () => {
    for (const fields of [
      { offsetMap: { base: 0, token: 'a;b' } },
      { offsetMap: { base: 0, token: 'a=b' } },
      { offsetMap: { base: 0, token: 'a\0' } },
      { offsetMap: { base: -1, token: 'r1' } },
      { offsetMap: { base: 1.5, token: 'r1' } },
      { routing: ';' },
      { routing: 'x=' },
    ]) {
      assert.throws(
        () => encodeCommitMetadata(fields),
        (error: unknown) => error instanceof CommitMetadataError && error.code === 'COMMIT_METADATA',
        JSON.stringify(fields),
      )
    }
  })

  it("exports the broker's default metadata size limit", () => {
    assert.equal(MAX_COMMIT_METADATA_BYTES, 4096)
  })
})
