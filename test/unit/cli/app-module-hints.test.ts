// An app module that fails to import because of Node's type-stripping rules gets a hint on the
// rule and the fix: `./lib.js` written for a `lib.ts` (Node does not map .js to .ts), an import
// without its extension, and TypeScript syntax Node cannot strip (enums, parameter properties).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadAppModule } from '../../../src/cli/app-module.ts'

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-app-module-'))
  for (const [name, code] of Object.entries(files)) writeFileSync(join(dir, name), code)
  return dir
}

async function importError(files: Record<string, string>): Promise<string> {
  const dir = project(files)
  try {
    let message = ''
    await assert.rejects(loadAppModule('app.ts', dir), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'APP_MODULE_IMPORT_FAILED')
      message = e.message
      return true
    })
    return message
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test("an import of './lib.js' where the file is lib.ts names the rule and the fixes", async () => {
  const message = await importError({
    'app.ts': "import { x } from './lib.js'\nexport default x\n",
    'lib.ts': 'export const x: number = 1\n',
  })
  assert.match(message, /lib\.js does not exist, but lib\.ts does/)
  assert.match(message, /Node runs \.ts files by stripping the types and does not map \.js imports to \.ts/)
  assert.match(message, /Import '\.\/lib\.ts'/)
  assert.match(message, /tsx/)
})

test('an import without its extension names the file it meant', async () => {
  const message = await importError({
    'app.ts': "import { x } from './lib'\nexport default x\n",
    'lib.ts': 'export const x: number = 1\n',
  })
  assert.match(message, /Node needs the file extension in relative imports: import '\.\/lib\.ts'/)
})

test('TypeScript syntax Node cannot strip (an enum) names the rule', async () => {
  const message = await importError({ 'app.ts': 'enum Color { Red }\nexport default Color\n' })
  assert.match(message, /only erasable TypeScript syntax/)
  assert.match(message, /tsx/)
})
