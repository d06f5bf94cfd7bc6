// A mistyped option gets "did you mean": also when the option it misspells is required (commander
// would otherwise report the required option as missing and never mention the typo).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Command } from 'commander'
import { buildProgram } from '../../../src/cli/main.ts'

async function usageError(args: string[]): Promise<string> {
  const program = buildProgram()
  let written = ''
  const capture = (c: Command): void => {
    c.configureOutput({
      writeErr: (s) => {
        written += s
      },
      writeOut: () => {},
    })
    for (const sub of c.commands) capture(sub)
  }
  capture(program)
  await assert.rejects(program.parseAsync(['node', 'multilane', ...args]))
  return written
}

test('a typo of a required option names the unknown option and suggests the right one', async () => {
  const err = await usageError(['topics', 'create', 'orders', '--partitoins', '3'])
  assert.match(err, /unknown option '--partitoins'\n\(Did you mean --partitions\?\)/)
  assert.doesNotMatch(err, /required option/)
})

test('a typo of an optional option suggests the right one; a required option left out is still reported', async () => {
  assert.match(await usageError(['run', 'app.ts', '--proceses', '2']), /\(Did you mean --processes\?\)/)
  assert.match(
    await usageError(['topics', 'create', 'orders']),
    /required option '--partitions <n>' not specified/,
  )
})
