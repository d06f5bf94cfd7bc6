// The package as users get it: `npm pack` (prepack builds dist/) and the tarball installed into a
// fresh ESM project beside the repository's own typescript and @types/node. Shared by the
// packed-package tests.
import assert from 'node:assert/strict'
import { type SpawnSyncReturns, spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const repo = join(import.meta.dirname, '../../..')

export const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  version: string
  engines: { node: string }
  devDependencies: Record<string, string>
}

export function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 180_000,
): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  })
}

/** Asserts the command exited 0 (showing its output when not); returns its stdout. */
export function ok(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(
    result.status,
    0,
    `${what} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
  )
  return result.stdout
}

/**
 * Packs the repository into `dir` and installs the tarball into `dir`/project, a fresh ESM
 * project named `name`. Returns the tarball's and the project's paths.
 */
export function packAndInstall(dir: string, name: string): { tarball: string; project: string } {
  ok(run('npm', ['pack', '--pack-destination', dir, '--loglevel=error'], repo), 'npm pack')
  const file = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  assert.ok(file, 'npm pack wrote a tarball')
  const tarball = join(dir, file)

  const project = join(dir, 'project')
  mkdirSync(project)
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name, private: true, type: 'module' }, null, 2)}\n`,
  )
  // The same TypeScript and Node types as the repository: already in npm's cache after `npm ci`.
  ok(
    run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        tarball,
        `typescript@${pkg.devDependencies.typescript}`,
        `@types/node@${pkg.devDependencies['@types/node']}`,
      ],
      project,
    ),
    'npm install of the tarball',
  )
  return { tarball, project }
}
