// This repository on a system Node older than engines.node allows (20, the system Node of the
// machines this project started on). npm runs on that Node, but every script, test and
// `npx multilane` here runs on the Node pinned by the `node` devDependency. npm checks each
// package's `engines` against the Node running npm, so it warned EBADENGINE for multilane and
// four dependencies on `npm install` (25 lines), and twice more for multilane on the first
// `npx multilane` of a checkout (npx links the checkout into its cache: a link and its target,
// checked once each). The repository's .npmrc shows npm's errors only; the controls below run
// the same commands at npm's default level and show the warnings are still what npm would print.
import assert from 'node:assert/strict'
import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { after, test } from 'node:test'
import { nodeBinary } from './node-binary.ts'

const repo = join(import.meta.dirname, '../../..')
const OLD = '20.20.2'
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version
const dir = mkdtempSync(join(tmpdir(), 'multilane-old-node-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** npm's own script, so it can be run by a Node of our choice. */
function npmCli(): string {
  const execPath = process.env.npm_execpath
  if (execPath?.endsWith('npm-cli.js')) return execPath
  return realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim())
}

/** `npm args…` in the repository, npm running on Node 20, with a PATH as a user's shell has. */
function oldNpm(args: string[]): SpawnSyncReturns<string> {
  const node = nodeBinary(OLD)
  const path = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes('node_modules'))
  return spawnSync(node, [npmCli(), ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PATH: [dirname(node), ...path].join(delimiter) },
  })
}

function badEngines(output: string): string[] {
  return [...output.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((m) => m[1]!).sort()
}

test("npm install on Node 20 prints no EBADENGINE warnings (at npm's default level: multilane and its dependencies)", () => {
  const quiet = oldNpm(['install', '--dry-run'])
  assert.equal(quiet.status, 0, quiet.stderr)
  assert.doesNotMatch(quiet.stdout + quiet.stderr, /EBADENGINE|npm warn/)
  const control = oldNpm(['install', '--dry-run', '--loglevel=warn'])
  assert.equal(control.status, 0, control.stderr)
  const warned = badEngines(control.stderr)
  assert.ok(warned.includes(`multilane@${version}`), control.stderr)
  assert.ok(
    warned.some((p) => p.startsWith('@platformatic/kafka@')),
    control.stderr,
  )
})

test('the first `npx multilane` of a checkout on Node 20 prints the version and no warnings', () => {
  // A fresh npm cache: npx links the checkout into it, as on a checkout's first call.
  const quiet = oldNpm(['exec', '--cache', join(dir, 'cache-quiet'), '--', 'multilane', '--version'])
  assert.equal(quiet.status, 0, quiet.stderr)
  assert.equal(quiet.stdout, `${version}\n`)
  assert.equal(quiet.stderr, '')
  const control = oldNpm([
    'exec',
    '--cache',
    join(dir, 'cache-control'),
    '--loglevel=warn',
    '--',
    'multilane',
    '-v',
  ])
  assert.equal(control.stdout, `${version}\n`)
  assert.ok(badEngines(control.stderr).includes(`multilane@${version}`), control.stderr)
})

test('`node bin/multilane.js` on Node 20 in a checkout re-runs itself on the pinned Node', () => {
  const result = spawnSync(nodeBinary(OLD), [join(repo, 'bin/multilane.js'), '--version'], {
    encoding: 'utf8',
  })
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.stdout, `${version}\n`)
})
