// A `kafka start` interrupted (Ctrl-C, a kill) while the broker boots
// leaves a broker that status, stop and the next start find; an interrupted or failed
// `start --restart` never loses the data `stop --keep` kept, and never starts fresh instead.
// Every test runs brokers of its own (MULTILANE_BROKER_DIR in a temporary directory).
import assert from 'node:assert/strict'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { DevKafkaError } from '../../../src/devkafka/errors.ts'
import { startLocalKafka, stopLocalKafka } from '../../../src/devkafka/local-broker.ts'
import { waitUntil } from '../../support/kafka.ts'
import {
  fullyExited,
  multilane,
  privateBrokerEnv,
  processesUsing,
  recordingJavaHome,
  removeDir,
  spawnMultilane,
  waitForOutput,
} from '../../support/launcher.ts'

/** The broker directory's record files, read directly. */
function record(
  env: NodeJS.ProcessEnv,
  file: 'state.json' | 'kept.json',
): { pid: number; port: number; saslPort: number } | undefined {
  try {
    return JSON.parse(readFileSync(join(env.MULTILANE_BROKER_DIR!, file), 'utf8'))
  } catch {
    return undefined
  }
}

async function topicNames(bootstrap: string): Promise<string[]> {
  const admin = new Admin({ clientId: 'test', bootstrapBrokers: [bootstrap] })
  try {
    return await admin.listTopics()
  } finally {
    await admin.close()
  }
}

test('Ctrl-C during `kafka start`: the broker is recorded; status shows it, the next start waits for it and reuses it, stop ends it', async () => {
  const { dir, env } = privateBrokerEnv('multilane-launcher-interrupt')
  const brokerDir = env.MULTILANE_BROKER_DIR!
  try {
    const start = spawnMultilane(['kafka', 'start'], env)
    await waitForOutput(start.output, /starting the broker/)
    await waitUntil(() => record(env, 'state.json') !== undefined, { message: 'the broker is spawned' })
    start.child.kill('SIGINT')
    const interrupted = await start.done
    assert.equal(interrupted.code, 130, interrupted.stderr)
    assert.match(interrupted.stderr, /keeps starting in the background.*multilane kafka stop/s)

    const [orphan, ...more] = processesUsing(join(brokerDir, 'server.properties'))
    assert.ok(orphan, 'the broker JVM outlived the command')
    assert.deepEqual(more, [])
    assert.equal(record(env, 'state.json')?.pid, orphan, 'it was recorded before the command ended')
    const status = multilane(['kafka', 'status', '--json'], env)
    assert.equal(JSON.parse(status.stdout).pid, orphan, status.stdout)

    const again = multilane(['kafka', 'start', '--json'], env)
    assert.equal(again.code, 0, again.stderr)
    const state = JSON.parse(again.stdout) as { pid: number; reused: boolean; phase: string; dataDir: string }
    assert.equal(state.pid, orphan, 'the next start reuses the interrupted start’s broker')
    assert.equal(state.reused, true)
    assert.equal(state.phase, 'running')
    assert.deepEqual(processesUsing(join(brokerDir, 'server.properties')), [orphan], 'no second broker')

    const stopped = multilane(['kafka', 'stop'], env)
    assert.match(stopped.stdout, new RegExp(`stopped the broker \\(pid ${orphan}\\)`))
    assert.ok(fullyExited(orphan), 'stop returns once the process has exited completely')
  } finally {
    await stopLocalKafka({ env }).catch(() => {})
    removeDir(dir)
  }
})

test('a start killed before it recorded the broker: start refuses to format over it, stop finds and ends it', async () => {
  const { dir, env } = privateBrokerEnv('multilane-launcher-killed')
  const brokerDir = env.MULTILANE_BROKER_DIR!
  try {
    const start = spawnMultilane(['kafka', 'start'], env)
    await waitForOutput(start.output, /starting the broker/)
    await waitUntil(() => record(env, 'state.json') !== undefined, { message: 'the broker is spawned' })
    start.child.kill('SIGKILL')
    await start.done
    // As if the kill had landed between spawning the JVM and writing its record.
    rmSync(join(brokerDir, 'state.json'))
    const [orphan] = processesUsing(join(brokerDir, 'server.properties'))
    assert.ok(orphan)

    const refused = multilane(['kafka', 'start'], env)
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, new RegExp(`\\[BROKER_UNTRACKED\\].*pid ${orphan}.*multilane kafka stop`))
    assert.ok(existsSync(join(brokerDir, 'data', 'meta.properties')), 'its data was not wiped')

    const stopped = multilane(['kafka', 'stop'], env)
    assert.equal(stopped.code, 0)
    assert.match(stopped.stdout, new RegExp(`stopped an unrecorded broker .*\\(pid ${orphan}\\)`))
    assert.ok(fullyExited(orphan))
    assert.deepEqual(processesUsing(join(brokerDir, 'server.properties')), [])
  } finally {
    await stopLocalKafka({ env }).catch(() => {})
    removeDir(dir)
  }
})

test('`start --restart` that fails or is interrupted keeps the kept data; the next --restart resumes it; with nothing kept it fails', async () => {
  const { dir, env } = privateBrokerEnv('multilane-launcher-restart')
  const brokerDir = env.MULTILANE_BROKER_DIR!
  const blocker = createServer()
  try {
    const first = await startLocalKafka({ env })
    const admin = new Admin({ clientId: 'test', bootstrapBrokers: [first.state.bootstrap] })
    await admin.createTopics({ topics: ['kept-topic'], partitions: 2, replicas: 1 })
    await admin.close()
    await stopLocalKafka({ env, keep: true })
    const kept = record(env, 'kept.json')
    assert.equal(kept?.port, first.state.port)

    // 1. The broker cannot start (a JVM that refuses kafka.Kafka): the error says the data is kept.
    const failing = { ...env, JAVA_HOME: recordingJavaHome(dir, join(dir, 'java.log'), { failKafka: true }) }
    await assert.rejects(startLocalKafka({ env: failing, restart: true }), (e) => {
      assert.ok(e instanceof DevKafkaError, String(e))
      assert.equal(e.code, 'BROKER_EXITED')
      assert.match(e.message, /kept .* is untouched .*start --restart/s)
      return true
    })
    assert.deepEqual(record(env, 'kept.json'), kept, 'the kept record survives a failed restart')
    assert.ok(existsSync(join(brokerDir, 'data', 'meta.properties')))

    // 2. A kept port is taken: refused before anything starts, naming the port.
    await new Promise<void>((resolve) => blocker.listen({ port: kept!.saslPort, host: '127.0.0.1' }, resolve))
    await assert.rejects(
      startLocalKafka({ env, restart: true }),
      (e) =>
        e instanceof DevKafkaError &&
        e.code === 'PORT_IN_USE' &&
        e.message.includes(`SASL port ${kept!.saslPort}`),
    )
    await new Promise((resolve) => blocker.close(resolve))
    assert.deepEqual(record(env, 'kept.json'), kept)

    // 3. Interrupted (SIGKILL) while the restarted broker boots; the next --restart picks it up.
    const restart = spawnMultilane(['kafka', 'start', '--restart'], env)
    await waitForOutput(restart.output, /restarting Apache Kafka/)
    await waitUntil(() => record(env, 'state.json') !== undefined, { message: 'the broker is spawned' })
    restart.child.kill('SIGKILL')
    await restart.done
    const resumed = await startLocalKafka({ env, restart: true })
    assert.equal(resumed.reused, true)
    assert.equal(resumed.recovered, true)
    assert.equal(resumed.state.port, first.state.port, 'same port as the kept broker')
    assert.ok((await topicNames(resumed.state.bootstrap)).includes('kept-topic'), 'the kept topic is there')
    assert.equal(record(env, 'kept.json'), undefined, 'the kept record is done with once its broker runs')

    // 4. Nothing kept any more: a restart fails and says so; it never starts fresh.
    await stopLocalKafka({ env })
    await assert.rejects(
      startLocalKafka({ env, restart: true }),
      (e) => e instanceof DevKafkaError && e.code === 'NOTHING_TO_RESTART' && /stop --keep/.test(e.message),
    )
    assert.deepEqual(processesUsing(join(brokerDir, 'server.properties')), [])
  } finally {
    blocker.close()
    await stopLocalKafka({ env }).catch(() => {})
    removeDir(dir)
  }
})
