// The benchmark scripts' flags: declared once, parsed by commander; every bad flag is refused with
// a message naming the flag and the rule, and the bench scripts import multilane through its
// public entry only (src/index.ts), so they keep working whatever moves inside src/.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { parseBootstrapList } from '../../../bench/throughput/broker.ts'
import { type FlagSpec, HelpRequested, parseFlags, UsageError } from '../../../bench/throughput/flags.ts'

const SPECS: Record<string, FlagSpec> = {
  records: { kind: 'int', min: 1, max: 1_000_000, description: 'records in the topic' },
  only: { kind: 'list', choices: ['multilane', 'kcat'], description: 'runners' },
  topic: { kind: 'string', required: true, description: 'topic' },
}

function refused(argv: string[]): string {
  try {
    parseFlags(argv, SPECS, 'bench')
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`)
    return error.message
  }
  assert.fail(`${argv.join(' ')} was accepted`)
}

test('flags parse as --name value and --name=value; integers as 1000, 1_000 and 1e3; lists deduplicated', () => {
  const flags = parseFlags(['--topic', 't', '--records=1_000', '--only', 'kcat,multilane,kcat'], SPECS)
  assert.deepEqual(Object.fromEntries(flags), { topic: 't', records: 1000, only: ['kcat', 'multilane'] })
  assert.equal(parseFlags(['--topic=t', '--records', '1e3'], SPECS).get('records'), 1000)
  assert.equal(parseFlags(['--topic', 't'], SPECS).has('records'), false)
})

test('an unknown flag is refused by name, with the closest known one suggested', () => {
  const message = refused(['--topic', 't', '--recods', '5'])
  assert.match(message, /unknown option '--recods'/)
  assert.match(message, /--records/)
})

test('a non-number where a number is needed is refused, naming the flag and the value', () => {
  for (const value of ['abc', '12x', '-5', '1.5', '']) {
    const message = refused(['--topic', 't', '--records', value])
    assert.match(message, /--records/)
    assert.match(message, /must be a whole number/)
  }
})

test('numbers out of range, unknown list entries, missing values, repeats and positional arguments are refused', () => {
  assert.match(refused(['--topic', 't', '--records', '0']), /--records must be ≥ 1, got 0/)
  assert.match(refused(['--topic', 't', '--records', '2e6']), /--records must be ≤ 1000000/)
  assert.match(
    refused(['--topic', 't', '--only', 'java']),
    /--only: unknown entry "java" \(choose from multilane, kcat\)/,
  )
  assert.match(refused(['--topic', 't', '--records']), /--records <n>' argument missing/)
  assert.match(
    refused(['--topic', 't', '--records', '1', '--records', '2']),
    /--records is given more than once/,
  )
  assert.match(refused(['--records', '1']), /required option '--topic <value>' not specified/)
  assert.match(refused(['--topic', 't', 'extra']), /too many arguments/)
  assert.match(refused(['--topic', ' ']), /--topic must not be empty/)
})

test('--help yields the usage listing every flag', () => {
  assert.throws(
    () => parseFlags(['--help'], SPECS, 'bench'),
    (error: unknown) =>
      error instanceof HelpRequested &&
      /Usage: bench \[flags\]/.test(error.message) &&
      ['--records <n>', '--only <a,b,…>', '--topic <value>'].every((f) => error.message.includes(f)),
  )
})

test('KAFKA_BOOTSTRAP_SERVERS for the benchmarks: host:port entries, a bad one named', () => {
  assert.deepEqual(parseBootstrapList(' a:9092, [::1]:9093 ', 'X'), ['a:9092', '[::1]:9093'])
  assert.throws(
    () => parseBootstrapList('a:9092,b', 'KAFKA_BOOTSTRAP_SERVERS'),
    /KAFKA_BOOTSTRAP_SERVERS: "b"/,
  )
  assert.throws(() => parseBootstrapList('a:0', 'X'), /"a:0" is not host:port/)
  assert.throws(() => parseBootstrapList(' , ', 'X'), /X is empty/)
})

test('bench scripts import multilane only through its public entry, src/index.ts', () => {
  const root = join(import.meta.dirname, '..', '..', '..')
  const benchDir = join(root, 'bench')
  // bench/internals/ holds micro-benchmarks of one internal module each (the runtime on an
  // in-memory source): measuring the module is their point.
  const files = readdirSync(benchDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.startsWith('internals/'))
    .map((f) => join(benchDir, f))
  assert.ok(files.length > 10, `found only ${files.length} bench scripts`)
  const offenders: string[] = []
  for (const file of files) {
    const source = readFileSync(file, 'utf8')
    for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      if (!specifier!.includes('/src/')) continue
      if (!specifier!.endsWith('/src/index.ts')) offenders.push(`${relative(root, file)}: ${specifier}`)
    }
  }
  assert.deepEqual(offenders, [], 'bench scripts must import src/index.ts, not internal modules')
})
