// The routing fingerprint compares the partitioner's and reducer's source without whitespace and
// semicolons: one TypeScript source run with Node's type stripping and compiled by tsc must not
// refuse itself, while a real change of the routing still shows.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { routingFingerprint } from '../../../src/segments/fingerprint.ts'

type Fn = (...args: never[]) => unknown
const fn = (source: string) => new Function(`return (${source})`)() as Fn

// `(r: R) =>\n  r.headers.get('user')! as string` and
// `function reducer<T>(value: T, count: number): number {\n  return String(value).length % count\n}`
// as Node 24 runs them (types blanked out) and as tsc 7 emits them (reindented, semicolons added).
const STRIPPED = {
  partitioner: "(r   ) =>\n  r.headers.get('user')",
  reducer: 'function reducer   (value   , count        )         {\n  return String(value).length % count\n}',
}
const COMPILED = {
  partitioner: "(r) => r.headers.get('user')",
  reducer: 'function reducer(value, count) {\n    return String(value).length % count;\n}',
}

function fingerprintOf(source: { partitioner: string; reducer: string }, count = 3): string {
  return routingFingerprint({
    count,
    mergeKey: '-parallel-',
    partitioner: fn(source.partitioner),
    reducer: fn(source.reducer),
  })
}

describe('routing fingerprint of TypeScript sources', () => {
  it('is the same for type-stripped and tsc-compiled code', () => {
    assert.equal(fingerprintOf(STRIPPED), fingerprintOf(COMPILED))
  })

  it('still changes when the routing does', () => {
    const base = fingerprintOf(COMPILED)
    assert.notEqual(fingerprintOf({ ...COMPILED, partitioner: "(r) => r.headers.get('account')" }), base)
    assert.notEqual(
      fingerprintOf({
        ...COMPILED,
        reducer: 'function reducer(value, count) { return String(value).length % 7 }',
      }),
      base,
    )
    assert.notEqual(fingerprintOf(COMPILED, 4), base)
  })
})
