import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  CommitMetadataError,
  decodeCommitMetadata,
  encodeCommitMetadata,
  MAX_COMMIT_METADATA_BYTES,
} from '../../../src/processing/commit-metadata.ts'
import { decodeOffsetMap, encodeOffsetMap } from '../../../src/processing/offset-map-codec.ts'

describe('commit metadata envelope', () => {
  it('encodes fields after the ml1 prefix', () => {
    assert.equal(encodeCommitMetadata({}), 'ml1')
    assert.equal(encodeCommitMetadata({ offsetMap: 'rAKAf' }), 'ml1;om=rAKAf')
    assert.equal(encodeCommitMetadata({ routing: 'v3' }), 'ml1;rf=v3')
    assert.equal(encodeCommitMetadata({ offsetMap: 'bJ1V', routing: 'abc' }), 'ml1;om=bJ1V;rf=abc')
  })

  it('round-trips', () => {
    const value = fc.option(fc.stringMatching(/^[^;=]*$/), { nil: undefined })
    fc.assert(
      fc.property(value, value, (offsetMap, routing) => {
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

  it('carries an offset map token', () => {
    const done = [105, 106, 107, 200]
    const decoded = decodeCommitMetadata(encodeCommitMetadata({ offsetMap: encodeOffsetMap(100, done) }))
    assert.deepEqual(decodeOffsetMap(100, decoded.offsetMap ?? ''), done)
  })

  it('reports metadata from other clients as foreign', () => {
    for (const s of [null, '', 'ml', 'ML1;om=x', 'ml2;om=x', 'ml10;om=x', 'ml1x', ' ml1', '{"json":true}']) {
      assert.deepEqual(decodeCommitMetadata(s), { foreign: true }, String(s))
    }
  })

  it('ignores unknown keys, empty values and pairs without =', () => {
    assert.deepEqual(decodeCommitMetadata('ml1;zz=1;om=rAKAf;flag;;rf=;new=a'), {
      foreign: false,
      offsetMap: 'rAKAf',
    })
    assert.deepEqual(decodeCommitMetadata('ml1;rf=r1;om=b1'), {
      foreign: false,
      offsetMap: 'b1',
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

  it('refuses values containing ; or =', () => {
    for (const fields of [{ offsetMap: 'a;b' }, { offsetMap: 'a=b' }, { routing: ';' }, { routing: 'x=' }]) {
      assert.throws(
        () => encodeCommitMetadata(fields),
        (error: unknown) => error instanceof CommitMetadataError && error.code === 'COMMIT_METADATA',
      )
    }
  })

  it("exports the broker's default metadata size limit", () => {
    assert.equal(MAX_COMMIT_METADATA_BYTES, 4096)
  })
})
