// The launcher itself, on a second broker in its own directory (the suite's broker keeps running):
// start, reuse on a second start, status, stop leaving no java process; and its clear errors.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { addLocalBroker } from '../../src/devkafka/added-broker.ts'
import { DevKafkaError } from '../../src/devkafka/errors.ts'
import { localKafkaStatus, startLocalKafka, stopLocalKafka } from '../../src/devkafka/local-broker.ts'
import { bootstrapServers } from '../support/kafka.ts'

function javaProcessesUsing(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', dir], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

test('start, reuse, status, stop: idempotent, and stop leaves no java process', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-broker-'))
  const env = { ...process.env, MULTILANE_BROKER_DIR: dir }
  try {
    const first = await startLocalKafka({ env })
    assert.equal(first.reused, false)
    assert.notEqual(
      first.state.port,
      Number(bootstrapServers()[0]!.split(':')[1]),
      'a busy default port falls back to a free one',
    )

    const second = await startLocalKafka({ env })
    assert.equal(second.reused, true)
    assert.equal(second.state.pid, first.state.pid)

    const status = await localKafkaStatus(env)
    assert.equal(status?.bootstrap, first.state.bootstrap)
    assert.equal(javaProcessesUsing(dir).length, 1)

    await stopLocalKafka({ env })
    assert.deepEqual(javaProcessesUsing(dir), [])
    assert.equal(await localKafkaStatus(env), undefined)
    assert.equal(existsSync(first.state.dataDir), false, 'ephemeral data is removed')
  } finally {
    await stopLocalKafka({ env }).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a busy explicit port is refused with PORT_IN_USE naming --port', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-broker-'))
  const busy = Number(bootstrapServers()[0]!.split(':')[1])
  try {
    await assert.rejects(
      startLocalKafka({ port: busy, env: { ...process.env, MULTILANE_BROKER_DIR: dir } }),
      (e) => {
        assert.ok(e instanceof DevKafkaError)
        assert.equal(e.code, 'PORT_IN_USE')
        assert.match(e.message, new RegExp(`Port ${busy}.*--port`))
        return true
      },
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('missing Java and missing Maven are reported with the fix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-broker-'))
  try {
    await assert.rejects(
      startLocalKafka({ env: { ...process.env, MULTILANE_BROKER_DIR: dir, JAVA_HOME: join(dir, 'no-jdk') } }),
      (e) => e instanceof DevKafkaError && e.code === 'JAVA_MISSING' && /JAVA_HOME/.test(e.message),
    )
    const javaHome = dirname(
      dirname(realpathSync(execFileSync('which', ['java'], { encoding: 'utf8' }).trim())),
    )
    await assert.rejects(
      startLocalKafka({
        env: {
          PATH: join(dir, 'empty-path'),
          JAVA_HOME: javaHome,
          MULTILANE_BROKER_DIR: dir,
          MULTILANE_CACHE_DIR: dir,
          MULTILANE_KAFKA_VERSION: '4.2.1',
        },
      }),
      (e) => e instanceof DevKafkaError && e.code === 'MAVEN_MISSING' && /KAFKA_HOME/.test(e.message),
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('addLocalBroker refuses a bad node id and a missing cluster, naming the rule', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-add-'))
  const env = { ...process.env, MULTILANE_BROKER_DIR: dir }
  try {
    for (const nodeId of [1, 2.5, -3]) {
      await assert.rejects(
        addLocalBroker({ env, nodeId }),
        (e: unknown) =>
          e instanceof DevKafkaError && e.code === 'INVALID_NODE_ID' && /integer ≥ 2/.test(e.message),
      )
    }
    await assert.rejects(
      addLocalBroker({ env }),
      (e: unknown) =>
        e instanceof DevKafkaError && e.code === 'NOT_RUNNING' && /multilane kafka start/.test(e.message),
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
