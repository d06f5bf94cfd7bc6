#!/usr/bin/env node
// Entry point of the `multilane` command. multilane needs Node >= 22; when started by an older
// system Node inside a checkout that has the pinned Node (the `node` devDependency), re-run
// with that one. In a checkout the TypeScript sources run directly; an installed package
// (under node_modules, where Node does not strip types) runs the built `dist`.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node')
  if (!existsSync(pinned)) {
    process.stderr.write(`multilane needs Node.js >= 22 (this is ${process.version}).\n`)
    process.exit(2)
  }
  const result = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  })
  // A child killed by signal n exits this process with 128 + n, as a shell reports it.
  const signal = result.signal ? constants.signals[result.signal] : undefined
  process.exit(signal === undefined ? (result.status ?? 1) : 128 + signal)
}

const source = join(root, 'src', 'cli', 'main.ts')
const inPackage = root.split(/[\\/]/).includes('node_modules')
const entry = !inPackage && existsSync(source) ? source : join(root, 'dist', 'cli', 'main.js')
const { main } = await import(pathToFileURL(entry).href)
await main()
