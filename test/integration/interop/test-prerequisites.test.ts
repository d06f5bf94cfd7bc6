// The test suite's own set-up on a fresh machine: the Python venv with confluent-kafka is made
// where it is missing (what `npm ci && npm test` needs beyond npm), and a missing system program
// stops the run before any test with the command that installs it.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  checkSystemPrograms,
  ensurePythonVenv,
  MissingPrerequisiteError,
} from '../../support/prerequisites.ts'
import { CONFLUENT_KAFKA_VERSION, testVenv } from '../../support/python.ts'

test('the venv the tests use is created with confluent-kafka where MULTILANE_TEST_VENV points at an empty directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-venv-'))
  try {
    const venv = join(dir, 'venv')
    assert.equal(testVenv({ MULTILANE_TEST_VENV: venv }), venv)
    const progress: string[] = []
    const python = ensurePythonVenv({
      venv: testVenv({ MULTILANE_TEST_VENV: venv }),
      onProgress: (m) => progress.push(m),
    })
    assert.equal(python, join(venv, 'bin', 'python'))
    const probe = spawnSync(python, ['-c', 'import confluent_kafka; print(confluent_kafka.__version__)'], {
      encoding: 'utf8',
    })
    assert.equal(probe.stdout.trim(), CONFLUENT_KAFKA_VERSION, probe.stderr)
    assert.match(progress.join('\n'), /creating the Python venv/)
    // Once: a second call finds it and creates nothing.
    const again: string[] = []
    ensurePythonVenv({ venv, onProgress: (m) => again.push(m) })
    assert.deepEqual(again, [])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('without python3 the set-up stops naming the test that needs it and the install command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-venv-'))
  try {
    assert.throws(
      () => ensurePythonVenv({ venv: join(dir, 'venv'), python3: join(dir, 'no-python3') }),
      (e: Error) => {
        assert.ok(e instanceof MissingPrerequisiteError)
        assert.match(e.message, /python-commit-metadata\.test\.ts: apt-get install python3 python3-venv/)
        return true
      },
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('missing kcat, Maven and Java stop the set-up with each install command', () => {
  assert.throws(
    () => checkSystemPrograms({ PATH: '/nonexistent' }),
    (e: Error) => {
      assert.ok(e instanceof MissingPrerequisiteError)
      assert.match(
        e.message,
        /kcat is needed by test\/integration\/interop\/kcat-interop\.test\.ts.*: apt-get install kcat/,
      )
      assert.match(e.message, /Maven is needed .*: apt-get install maven/)
      assert.match(e.message, /Java >= 17 .*: apt-get install openjdk-17-jre-headless/)
      return true
    },
  )
  // This machine has them all (the suite could not run otherwise).
  checkSystemPrograms()
})
