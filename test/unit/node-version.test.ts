import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { MultilaneError } from '../../src/errors.ts'
import {
  checkNodeVersion,
  isAtLeast,
  minimumNodeVersion,
  UnsupportedNodeError,
} from '../../src/node-version.ts'
import { packageInfo } from '../../src/package-info.ts'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
  engines: { node: string }
  devDependencies: Record<string, string>
}

test('npm scripts run on a Node that meets engines.node (the pinned one), not the system Node 20', () => {
  const minimum = minimumNodeVersion(pkg.engines.node)
  assert.ok(
    isAtLeast(process.versions.node, minimum),
    `expected Node >= ${minimum}, running ${process.version} from ${process.execPath}`,
  )
})

test('the rule is package.json engines.node, of the form >=MAJOR.MINOR.PATCH, and the pinned Node meets it', () => {
  assert.deepEqual(packageInfo(), pkg) // what src/ reads is the repository's package.json
  const minimum = minimumNodeVersion(pkg.engines.node)
  assert.match(minimum, /^\d+\.\d+\.\d+$/)
  assert.ok(isAtLeast(pkg.devDependencies.node!, minimum), `pinned ${pkg.devDependencies.node} < ${minimum}`)
  assert.throws(
    () => minimumNodeVersion('^22.22.0'),
    /engines\.node must have the form ">=MAJOR\.MINOR\.PATCH" \(got "\^22\.22\.0"\)/,
  )
})

test('isAtLeast compares major, minor and patch as numbers', () => {
  assert.equal(isAtLeast('22.22.0', '22.22.0'), true)
  assert.equal(isAtLeast('22.22.1', '22.22.0'), true)
  assert.equal(isAtLeast('22.23.0', '22.22.9'), true)
  assert.equal(isAtLeast('24.0.0', '22.22.0'), true)
  assert.equal(isAtLeast('100.0.0', '22.22.0'), true)
  assert.equal(isAtLeast('22.21.99', '22.22.0'), false)
  assert.equal(isAtLeast('22.9.0', '22.22.0'), false) // 9 < 22 as numbers, not as strings
  assert.equal(isAtLeast('20.20.2', '22.22.0'), false)
  assert.equal(isAtLeast('23.0.0-pre', '22.22.0'), true)
})

test('an older Node gets UnsupportedNodeError naming the needed and the running version', () => {
  const minimum = minimumNodeVersion(pkg.engines.node)
  assert.doesNotThrow(() => checkNodeVersion(minimum))
  assert.doesNotThrow(() => checkNodeVersion(process.versions.node))
  assert.throws(
    () => checkNodeVersion('20.20.2', '/usr/bin/node'),
    (error: unknown) => {
      assert.ok(error instanceof UnsupportedNodeError)
      assert.ok(error instanceof MultilaneError)
      assert.equal(error.code, 'UNSUPPORTED_NODE')
      assert.equal(error.name, 'UnsupportedNodeError')
      assert.equal(
        error.message,
        `multilane needs Node.js >= ${minimum}; this is Node.js v20.20.2 (/usr/bin/node). ` +
          `Run it with Node.js ${minimum} or newer.`,
      )
      return true
    },
  )
})
