// The `multilane` command as a user runs it: exit codes (0 ok, 1 failure, 2 usage), errors that
// name the flag or variable, and --json output. One test starts a two-broker cluster of its own
// (MULTILANE_BROKER_DIR in a temporary directory); the others fail before any broker is needed.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'

const bin = join(import.meta.dirname, '../../bin/multilane.js')
const dir = mkdtempSync(join(tmpdir(), 'multilane-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Running processes whose command line mentions `path` (a zombie's is empty). */
function javaProcessesUsing(path: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', path], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

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
  const brokers = multilane(['kafka', 'start', '--brokers', '10'])
  assert.equal(brokers.code, 2)
  assert.match(brokers.stderr, /--brokers.*integer from 1 to 9/)
  const conflict = multilane(['kafka', 'start', '--brokers', '2', '--restart'])
  assert.equal(conflict.code, 2)
  assert.match(conflict.stderr, /--brokers cannot be combined with --restart/)
})

test('start --brokers 2: a two-broker cluster, listed by status; stop ends every broker', () => {
  const started = multilane(['kafka', 'start', '--brokers', '2', '--json'])
  try {
    assert.equal(started.code, 0, started.stderr)
    const state = JSON.parse(started.stdout) as {
      pid: number
      addedBrokers: Array<{ nodeId: number; pid: number }>
    }
    assert.deepEqual(
      state.addedBrokers.map((b) => b.nodeId),
      [2],
    )
    const status = multilane(['kafka', 'status'])
    assert.equal(status.code, 0)
    assert.match(status.stdout, /bootstrap: 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+/)
    assert.match(status.stdout, /broker 2: 127\.0\.0\.1:\d+ \(pid \d+\)/)
    // Asking again for two is idempotent; it never adds a third.
    const again = multilane(['kafka', 'start', '--brokers', '2', '--json'])
    assert.equal((JSON.parse(again.stdout) as { addedBrokers: unknown[] }).addedBrokers.length, 1)
    const stopped = multilane(['kafka', 'stop'])
    assert.equal(stopped.code, 0)
    assert.match(stopped.stdout, /and 1 added broker/)
    assert.deepEqual(javaProcessesUsing(join(dir, 'broker')), [], 'no broker process is left')
  } finally {
    multilane(['kafka', 'stop'])
  }
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
