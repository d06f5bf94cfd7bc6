// `multilane segments …` and `multilane run` when the input is wrong: usage errors exit 2 and
// name the flag; an app module that is missing, fails to import, or exports no App exits 1 naming
// the file; a placement naming a segment the app does not have exits 1. Most cases run in this
// process (the command tree, the module loader); a few run the command to check the exit codes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CommanderError } from 'commander'
import { loadAppModule } from '../../../src/cli/app-module.ts'
import { buildProgram } from '../../../src/cli/main.ts'
import { multilane, repo } from '../../support/segments.ts'

const APP = 'test/fixtures/segments/app.ts'
const app = { topic: 'cli-errors-topic', group: 'cli-errors', count: 3 }

/** Parses `args` with the real command tree, in this process; returns commander's error. */
async function usageError(args: string[]): Promise<CommanderError> {
  const write = process.stderr.write
  process.stderr.write = () => true // commander prints the error and the help
  try {
    await buildProgram().parseAsync(['node', 'multilane', ...args])
  } catch (error) {
    if (error instanceof CommanderError) return error
    throw error
  } finally {
    process.stderr.write = write
  }
  throw new Error(`${args.join(' ')} parsed without a usage error`)
}

test('usage errors exit 2 and name the flag or argument', async () => {
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
  for (const [args, message] of cases) assert.match((await usageError(args)).message, message, args.join(' '))
  // The command itself: exit code 2, the message on stderr.
  for (const [args, message] of [cases[0]!, cases[8]!]) {
    const r = multilane(args, app)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
  }
})

test('app module errors exit 1 and name the file', async () => {
  const cases: Array<[string, { code: string; message: RegExp }]> = [
    [
      'test/fixtures/segments/missing.ts',
      {
        code: 'APP_MODULE_NOT_FOUND',
        message: /^App module test\/fixtures\/segments\/missing\.ts \(\/\S+\/missing\.ts\) does not exist$/,
      },
    ],
    [
      'test/fixtures/segments',
      { code: 'APP_MODULE_NOT_FOUND', message: /^App module test\/fixtures\/segments .* is not a file/ },
    ],
    [
      'test/fixtures/segments/invalid-app.ts',
      {
        code: 'APP_MODULE_IMPORT_FAILED',
        message:
          /^App module test\/fixtures\/segments\/invalid-app\.ts .* failed to import: \[INVALID_CONFIGURATION\] consumerGroup "invalid" › parallelSegments\.count: must be an integer ≥ 1 \(got 0\)$/,
      },
    ],
    [
      'test/fixtures/segments/no-default-export.ts',
      {
        code: 'APP_MODULE_INVALID',
        message: /^App module test\/fixtures\/segments\/no-default-export\.ts .* has no default export/,
      },
    ],
    [
      'test/fixtures/segments/not-an-app.ts',
      {
        code: 'APP_MODULE_INVALID',
        message:
          /^App module test\/fixtures\/segments\/not-an-app\.ts .*: the default export must be a multilane App/,
      },
    ],
    [
      'package.json',
      {
        code: 'APP_MODULE_INVALID',
        message: /^App module package\.json .* must be a \.ts, \.mts, \.js, \.mjs file/,
      },
    ],
    // The module's own error is passed on (the environment it needs is not set here).
    [APP, { code: 'APP_MODULE_IMPORT_FAILED', message: /failed to import: SEGMENTS_TOPIC must be set$/ }],
  ]
  for (const [module, expected] of cases) await assert.rejects(loadAppModule(module, repo), expected, module)
  // The commands: exit code 1, the code and message on stderr.
  for (const args of [
    ['segments', 'distribute', '--app', 'test/fixtures/segments/not-an-app.ts'],
    ['run', 'test/fixtures/segments/not-an-app.ts', '--processes', '2'],
  ]) {
    const r = multilane(args, app)
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
    assert.match(
      r.stderr,
      /^multilane: \[APP_MODULE_INVALID\] App module test\/fixtures\/segments\/not-an-app\.ts .*: the default export must be a multilane App/,
    )
  }
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
