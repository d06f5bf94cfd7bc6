// `multilane segments …` and `multilane run` when the input is wrong: usage errors exit 2 and
// name the flag; an app module that is missing, fails to import, or exports no App exits 1 naming
// the file; a placement naming a segment the app does not have exits 1. Nothing here needs a broker
// beyond loading the app module.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { multilane } from '../../support/segments.ts'

const APP = 'test/fixtures/segments/app.ts'
const app = { topic: 'cli-errors-topic', group: 'cli-errors', count: 3 }

test('usage errors exit 2 and name the flag or argument', () => {
  const cases: Array<[string[], RegExp]> = [
    [['segments', 'distribute'], /required option '--app <module>' not specified/],
    [['segments', 'bogus'], /unknown command 'bogus'/],
    [['segments', 'collapse', '--app', APP, '--verbose'], /unknown option '--verbose'/],
    [
      ['segments', 'check', '--app', APP, '--sample', '0'],
      /option '--sample <n>' argument '0' is invalid\. must be an integer ≥ 1/,
    ],
    [
      ['segments', 'reset', '--app', APP, '--bootstrap', 'nonsense'],
      /'--bootstrap <servers>' argument 'nonsense' is invalid\. must be host:port/,
    ],
    [['run'], /missing required argument 'app-module'/],
    [
      ['run', APP, '--segments', '0,x'],
      /'--segments <ids>' argument '0,x' is invalid\. must be segment ids, comma-separated integers ≥ 0/,
    ],
    [['run', APP, '--segments', '1,1'], /lists a segment id twice/],
    [
      ['run', APP, '--processes', '0'],
      /'--processes <n>' argument '0' is invalid\. must be an integer from 1 to 256/,
    ],
  ]
  for (const [args, message] of cases) {
    const r = multilane(args, app)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message, args.join(' '))
  }
})

test('app module errors exit 1 and name the file', () => {
  const cases: Array<[string, RegExp]> = [
    [
      'test/fixtures/segments/missing.ts',
      /\[APP_MODULE_NOT_FOUND\] App module test\/fixtures\/segments\/missing\.ts \(\/\S+\/missing\.ts\) does not exist/,
    ],
    [
      'test/fixtures/segments',
      /\[APP_MODULE_NOT_FOUND\] App module test\/fixtures\/segments .* is not a file/,
    ],
    [
      'test/fixtures/segments/invalid-app.ts',
      /\[APP_MODULE_IMPORT_FAILED\] App module test\/fixtures\/segments\/invalid-app\.ts .* failed to import: \[INVALID_CONFIGURATION\] consumerGroup "invalid" › parallelSegments\.count: must be an integer ≥ 1 \(got 0\)/,
    ],
    [
      'test/fixtures/segments/no-default-export.ts',
      /\[APP_MODULE_INVALID\] App module test\/fixtures\/segments\/no-default-export\.ts .* has no default export/,
    ],
    [
      'test/fixtures/segments/not-an-app.ts',
      /\[APP_MODULE_INVALID\] App module test\/fixtures\/segments\/not-an-app\.ts .*: the default export must be a multilane App/,
    ],
    [
      'package.json',
      /\[APP_MODULE_INVALID\] App module package\.json .* must be a \.ts, \.mts, \.js, \.mjs file/,
    ],
  ]
  const commands = (module: string) => [
    ['segments', 'distribute', '--app', module],
    ['segments', 'check', '--app', module],
    ['run', module],
    ['run', module, '--processes', '2'],
  ]
  // Every case through one command, one case through every command (they share the loader).
  const runs: Array<[string[], RegExp]> = [
    ...cases.map(([module, message]): [string[], RegExp] => [commands(module)[0]!, message]),
    ...commands(cases[4]![0])
      .slice(1)
      .map((args): [string[], RegExp] => [args, cases[4]![1]]),
  ]
  for (const [args, message] of runs) {
    const r = multilane(args, app)
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message, args.join(' '))
  }
  // The module's own import error is passed on (the environment it needs is missing).
  const r = multilane(['segments', 'distribute', '--app', APP])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /failed to import: SEGMENTS_TOPIC must be set/)
})

test('a segment id the app does not have exits 1 and names the rule', () => {
  for (const args of [
    ['run', APP, '--segments', '0,3'],
    ['run', APP, '--segments', '3', '--processes', '2'],
  ]) {
    const r = multilane(args, app)
    assert.equal(r.code, 1, r.stderr)
    assert.match(
      r.stderr,
      /\[INVALID_PLACEMENT\] segment 3 does not exist: segment ids are integers from 0 to 2/,
    )
  }
  const plain = multilane(['run', APP, '--segments', '0', '--processes', '2'], { ...app, count: 1 })
  assert.equal(plain.code, 1)
  assert.match(
    plain.stderr,
    /\[INVALID_PLACEMENT\] segments were given, but no consumer group of the app has parallel segments/,
  )
})
