import assert from 'node:assert/strict'
import { test } from 'node:test'

test('npm scripts run on the pinned Node (>= 22), not the system Node 20', () => {
  const major = Number(process.versions.node.split('.')[0])
  assert.ok(major >= 22, `expected Node >= 22, running ${process.version} from ${process.execPath}`)
})
