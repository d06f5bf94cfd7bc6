#!/usr/bin/env node
// Entry point of the `multilane` command. multilane needs the Node.js that package.json's
// engines.node names (">=X.Y.Z", the rule src/node-version.ts applies at import); when started
// by an older system Node inside a checkout that has the pinned Node (the `node`
// devDependency), re-run with that one. In a checkout the TypeScript sources run directly; an
// installed package (under node_modules, where Node does not strip types) runs the built `dist`.
// Kept to syntax old Node versions parse, so they reach the version message.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const minimum = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node.replace(/^>=/, '')
const [have, need] = [process.versions.node, minimum].map((v) => v.split(/[.-]/, 3).map(Number))
const differs = have.findIndex((n, i) => n !== need[i]) // first differing part, -1 if equal
if (differs >= 0 && have[differs] < need[differs]) {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node')
  if (!existsSync(pinned)) {
    process.stderr.write(
      `multilane needs Node.js >= ${minimum}; this is Node.js ${process.version} (${process.execPath}).\n`,
    )
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
