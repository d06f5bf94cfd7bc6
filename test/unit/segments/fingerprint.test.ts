// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are source text with template literals
// The routing fingerprint compares the partitioner's and reducer's source as a normalised token
// stream: one TypeScript source run with Node's type stripping, compiled by tsc or reprinted by
// esbuild (tsx) must not refuse itself, while a real change of the routing — including inside a
// string literal — still shows. multilane's own reducers count by a version constant.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { routingFingerprint } from '../../../src/segments/fingerprint.ts'
import { defaultSegmentReducer, karafkaReducer } from '../../../src/segments/reducers.ts'
import { normalizedSource } from '../../../src/segments/source-normalize.ts'

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

// Functions of one TypeScript module as Node 24's type stripping leaves them and as esbuild 0.25
// (what tsx runs) prints them: `transformSync(src, { loader: 'ts', format: 'esm' })`.
const ESBUILD_REPRINTS: Array<[stripped: string, esbuild: string]> = [
  [
    'function reducer   (value   , count        )         {\n  // comment\n  const s = String(value)          \n  let h = 0x10, big = 1_000\n  for (let i = 0; i < s.length; i++) { h = (h * 31 + s.charCodeAt(i)) | 0; }\n  return Math.abs(h + big) % count\n}',
    'function reducer(value, count) {\n  const s = String(value);\n  let h = 16, big = 1e3;\n  for (let i = 0; i < s.length; i++) {\n    h = h * 31 + s.charCodeAt(i) | 0;\n  }\n  return Math.abs(h + big) % count;\n}',
  ],
  ["(r   )         => { return r.keyString + ';' }", '(r) => {\n  return r.keyString + ";";\n}'],
  ['(r   ) => ({ a: r.topic, b: `${r.partition}-x`, })', '(r) => ({ a: r.topic, b: `${r.partition}-x` })'],
  [
    "(r   ) => r.topic === 'a' ? r.key : r.keyString?.split(',', 2,)[0]",
    '(r) => r.topic === "a" ? r.key : r.keyString?.split(",", 2)[0]',
  ],
  [
    "(r   ) => (r.keyString ?? '').length > 3 ? (r.partition) : (r.offset % 2)",
    '(r) => (r.keyString ?? "").length > 3 ? r.partition : r.offset % 2',
  ],
  [
    '(r   ) => { const topic = r.topic; return { topic: topic, n: (r.partition + 1) * 2 } }',
    '(r) => {\n  const topic = r.topic;\n  return { topic, n: (r.partition + 1) * 2 };\n}',
  ],
  [
    "(r   ) => r.headers.get('tenant') !== undefined ? r.headers.get('tenant') : new String(r.topic).toString()",
    '(r) => r.headers.get("tenant") !== void 0 ? r.headers.get("tenant") : new String(r.topic).toString()',
  ],
  [
    "(r   ) => { switch (r.topic) { case 'a': return (r.key); default: return `${(r.topic)}:${r.partition}` } }",
    '(r) => {\n  switch (r.topic) {\n    case "a":\n      return r.key;\n    default:\n      return `${r.topic}:${r.partition}`;\n  }\n}',
  ],
  ['r => r.keyString', '(r) => r.keyString'],
  [
    '(r   ) => (r.offset & 0xff) ** 2 > (r.partition << 2) ? \'hi\' : "lo"',
    '(r) => (r.offset & 255) ** 2 > r.partition << 2 ? "hi" : "lo"',
  ],
  ["(r) => r.headers.get('\\xe9\\x41')", '(r) => r.headers.get("\\xE9A")'],
]

describe('routing fingerprint of TypeScript sources', () => {
  it('is the same for type-stripped and tsc-compiled code', () => {
    assert.equal(fingerprintOf(STRIPPED), fingerprintOf(COMPILED))
  })

  it('is the same for type-stripped code and its esbuild (tsx) reprint', () => {
    for (const [stripped, esbuild] of ESBUILD_REPRINTS) {
      assert.equal(normalizedSource(stripped), normalizedSource(esbuild), `${stripped}\n  vs\n${esbuild}`)
      assert.equal(
        fingerprintOf({ partitioner: stripped, reducer: COMPILED.reducer }),
        fingerprintOf({ partitioner: esbuild, reducer: COMPILED.reducer }),
      )
    }
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

  it('changes when only a string literal does (whitespace and semicolons inside it count)', () => {
    const changes: Array<[string, string]> = [
      ["(r) => r.headers.get('user id')", "(r) => r.headers.get('userid')"],
      ["(r) => r.keyString + ';'", "(r) => r.keyString + ''"],
      ['(r) => `${r.topic} ${r.partition}`', '(r) => `${r.topic}${r.partition}`'],
      ["(r) => r.keyString.split(' ; ')[0]", "(r) => r.keyString.split(';')[0]"],
    ]
    for (const [a, b] of changes) {
      assert.notEqual(
        fingerprintOf({ partitioner: a, reducer: COMPILED.reducer }),
        fingerprintOf({ partitioner: b, reducer: COMPILED.reducer }),
        `${a} vs ${b}`,
      )
    }
  })

  it('changes when parentheses or operators change the meaning', () => {
    const changes: Array<[string, string]> = [
      ['(r) => (r.offset + 1) * 2', '(r) => r.offset + 1 * 2'],
      ['(r) => r.offset - (r.partition - 1)', '(r) => r.offset - r.partition - 1'],
      ['(r) => !(r.key && r.keyString)', '(r) => !r.key && r.keyString'],
      ['(r) => (r.keyString || r.topic).length', '(r) => r.keyString || r.topic.length'],
      ['(r) => /a/g.test(r.topic)', '(r) => /a/.test(r.topic)'],
    ]
    for (const [a, b] of changes) assert.notEqual(normalizedSource(a), normalizedSource(b), `${a} vs ${b}`)
  })

  it('changes when a line break or a semicolon changes the meaning (ASI, for heads)', () => {
    const changes: Array<[string, string]> = [
      // `return` then a line break returns undefined.
      ['(r) => { return\n r.keyString }', '(r) => { return r.keyString }'],
      [
        '(r) => { let a = r.offset, b = 1; a\n++b; return a + b }',
        '(r) => { let a = r.offset, b = 1; a++\nb; return a + b }',
      ],
      ['(r) => { x\n(r.topic) }', '(r) => { x;(r.topic) }'],
      [
        '(r) => { let i = 0; for (;i < 3;) i++; return i }',
        '(r) => { let i = 0; for (i < 3;;) i++; return i }',
      ],
      // After a statement head's `)`, `/` starts a regular expression.
      ['(r) => { if (r.key) /a b/g.test(r.keyString) }', '(r) => { if (r.key) / a b / g.test(r.keyString) }'],
    ]
    for (const [a, b] of changes) assert.notEqual(normalizedSource(a), normalizedSource(b), `${a} vs ${b}`)
  })

  it('changes when parentheses around an optional chain or a `new` callee change the meaning', () => {
    const changes: Array<[string, string]> = [
      // `(a?.b).c` throws on a missing `a`; `a?.b.c` is undefined.
      ["(r) => (r.headers?.get('user')).length", "(r) => r.headers?.get('user').length"],
      ['(r) => new Map[r.topic]', '(r) => new Map()[r.topic]'],
    ]
    for (const [a, b] of changes) assert.notEqual(normalizedSource(a), normalizedSource(b), `${a} vs ${b}`)
  })

  it('is the same for line-break-terminated statements and their compiled reprints', () => {
    const same: Array<[string, string]> = [
      [
        '(r) => { if (!r.key) return\n return r.keyString }',
        '(r) => {\n  if (!r.key)\n    return;\n  return r.keyString;\n}',
      ],
      [
        '(r) => { if (!r.key) { return }\n return r.keyString }',
        '(r) => {\n  if (!r.key) {\n    return;\n  }\n  return r.keyString;\n}',
      ],
      [
        '(r) => { let a = 1, b = 2\n a\n ++b\n return a + b }',
        '(r) => {\n  let a = 1, b = 2;\n  a;\n  ++b;\n  return a + b;\n}',
      ],
      ['(r) => { g()\n ;(r.topic) }', '(r) => {\n  g();\n  r.topic;\n}'],
      ['(r) => new Map[r.topic]', '(r) => new Map[r.topic]()'],
      ["(r) => (r.headers?.get('user'))?.length", '(r) => r.headers?.get("user")?.length'],
    ]
    for (const [a, b] of same) assert.equal(normalizedSource(a), normalizedSource(b), `${a} vs ${b}`)
  })

  it('stands for built-in reducers by a version constant, not by their (reprintable) source', () => {
    const partitioner = fn("(r) => r.headers.get('user')")
    const expected = (reducer: string) =>
      createHash('sha256')
        .update(
          JSON.stringify(['v2', 3, '-parallel-', 'source', 'r => r . headers . get ( "user" )', reducer]),
        )
        .digest('base64url')
        .slice(0, 16)
    assert.equal(
      routingFingerprint({ count: 3, mergeKey: '-parallel-', partitioner, reducer: defaultSegmentReducer }),
      expected('multilane:defaultSegmentReducer@1'),
    )
    assert.equal(
      routingFingerprint({ count: 3, mergeKey: '-parallel-', partitioner, reducer: karafkaReducer }),
      expected('multilane:karafkaReducer@1'),
    )
  })

  it('reads any text without throwing or hanging (unterminated strings, templates, regexes, comments)', () => {
    const pieces = fc.constantFrom(
      "'",
      '"',
      '`',
      '${',
      '}',
      '{',
      '(',
      ')',
      '/',
      '*',
      '\\',
      '\n',
      'a',
      '1',
      '.',
      '=>',
      ';',
      ',',
      '?',
      ':',
    )
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(pieces).map((p) => p.join('')),
        ),
        (text) => {
          assert.equal(typeof normalizedSource(text), 'string')
        },
      ),
      { numRuns: 2000 },
    )
  })
})
