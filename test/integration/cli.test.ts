// The `multilane` command as a user runs it: exit codes (0 ok, 1 failure, 2 usage), errors that
// name the flag or variable, and --json output. No broker is needed: these paths fail first.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

const bin = join(import.meta.dirname, '../../bin/multilane.js')
const dir = mkdtempSync(join(tmpdir(), 'multilane-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function multilane(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, MULTILANE_BROKER_DIR: join(dir, 'broker'), ...env },
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

test('--help exits 0 and lists the commands', () => {
  const r = multilane(['--help'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /kafka/)
  assert.match(multilane(['kafka', '--help']).stdout, /start[\s\S]*stop[\s\S]*status/)
})

test('usage errors exit 2 and name what is wrong', () => {
  const port = multilane(['kafka', 'start', '--port', 'abc'])
  assert.equal(port.code, 2)
  assert.match(port.stderr, /--port.*integer from 1 to 65535/)
  const unknown = multilane(['kafka', 'bogus'])
  assert.equal(unknown.code, 2)
  assert.match(unknown.stderr, /unknown command 'bogus'/)
  const flag = multilane(['kafka', 'status', '--verbose'])
  assert.equal(flag.code, 2)
  assert.match(flag.stderr, /unknown option '--verbose'/)
})

test('status --json with no broker prints running:false and exits 1', () => {
  const r = multilane(['kafka', 'status', '--json'])
  assert.equal(r.code, 1)
  assert.deepEqual(JSON.parse(r.stdout), { running: false })
})

test('a bad MULTILANE_KAFKA_VERSION fails with its code and the rule, before anything starts', () => {
  const r = multilane(['kafka', 'start'], { MULTILANE_KAFKA_VERSION: '5.0' })
  assert.equal(r.code, 1)
  assert.match(
    r.stderr,
    /\[INVALID_KAFKA_VERSION\] MULTILANE_KAFKA_VERSION must be an Apache Kafka 4\.x release/,
  )
})
