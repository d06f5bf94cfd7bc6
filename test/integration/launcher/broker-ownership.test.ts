// The launcher touches only its own broker (a stale record of another is not taken for it), two
// starts of one directory make one broker, and the development secrets stay private.
// The tests share one broker directory of their own and run in order.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { addLocalBroker } from '../../../src/devkafka/added-broker.ts'
import { DEV_SASL_USER } from '../../../src/devkafka/broker-config.ts'
import { stopLocalKafka } from '../../../src/devkafka/local-broker.ts'
import { devTlsFiles } from '../../../src/devkafka/paths.ts'
import {
  alive,
  multilane,
  privateBrokerEnv,
  privateCacheEnv,
  processesUsing,
  recordedCommandLines,
  recordingJavaHome,
  removeDir,
  spawnMultilane,
  standIn,
} from '../../support/launcher.ts'

const { dir, env: baseEnv } = privateBrokerEnv('multilane-launcher-ownership')
const javaLog = join(dir, 'java.log')
const env: NodeJS.ProcessEnv = {
  ...privateCacheEnv(dir, baseEnv),
  JAVA_HOME: recordingJavaHome(dir, javaLog),
}
const brokerDir = env.MULTILANE_BROKER_DIR!
const standIns: ChildProcess[] = []
after(async () => {
  for (const p of standIns) p.kill('SIGKILL')
  await stopLocalKafka({ env }).catch(() => {})
  removeDir(dir)
})

/** Records a broker (and an added one) that are not this directory's: what a stale record or reused pid looks like. */
function recordForeignBrokers(): { main: ChildProcess; added: ChildProcess; otherData: string } {
  const otherData = join(dir, 'someone-elses-data')
  mkdirSync(otherData, { recursive: true })
  writeFileSync(join(otherData, 'precious'), 'x')
  const main = standIn(['kafka.Kafka', join(dir, 'other-broker', 'server.properties')])
  const added = standIn(['kafka.Kafka', '/etc/kafka/server.properties'])
  standIns.push(main, added)
  mkdirSync(join(brokerDir, 'nodes'), { recursive: true })
  const record = {
    pid: main.pid,
    bootstrap: '127.0.0.1:1',
    port: 1,
    dataDir: otherData,
    logFile: join(otherData, 'log'),
    startedAt: new Date().toISOString(),
  }
  writeFileSync(join(brokerDir, 'state.json'), JSON.stringify(record))
  writeFileSync(
    join(brokerDir, 'nodes', '2.json'),
    JSON.stringify({ nodeId: 2, pid: added.pid, bootstrap: '127.0.0.1:2', port: 2, dataDir: otherData }),
  )
  return { main, added, otherData }
}

test('stop, status and start never signal a process that is not this directory’s broker, nor delete its data', async () => {
  const { main, added, otherData } = recordForeignBrokers()
  await new Promise((r) => setTimeout(r, 200))

  const status = multilane(['kafka', 'status'], env)
  assert.equal(status.code, 1, 'a recorded pid that is someone else’s broker is not ours')
  assert.match(status.stdout, /no local broker is running/)

  const stopped = multilane(['kafka', 'stop'], env)
  assert.equal(stopped.code, 0, stopped.stderr)
  assert.doesNotMatch(
    stopped.stdout,
    /stopped the broker/,
    'a stale record is not reported as a stopped broker',
  )
  assert.match(
    stopped.stdout,
    new RegExp(`the recorded one \\(pid ${main.pid}.*had already exited; removed its record`),
  )
  assert.ok(alive(main.pid!), 'the other broker was not signalled')
  assert.ok(alive(added.pid!), 'the recorded "added broker" was not signalled')
  assert.ok(existsSync(join(otherData, 'precious')), 'the data named by the stale record is untouched')
  assert.equal(existsSync(join(brokerDir, 'state.json')), false)
})

test('two `kafka start` at once on one directory: one broker, both report it', async () => {
  const { main } = recordForeignBrokers() // also: a start must not reuse someone else's broker
  const [a, b] = [
    spawnMultilane(['kafka', 'start', '--json'], env),
    spawnMultilane(['kafka', 'start', '--json'], env),
  ]
  const results = await Promise.all([a.done, b.done])
  for (const r of results) assert.equal(r.code, 0, r.stderr)
  const states = results.map(
    (r) => JSON.parse(r.stdout) as { pid: number; reused: boolean; bootstrap: string },
  )
  assert.equal(states[0]!.pid, states[1]!.pid, 'both report the same broker')
  assert.deepEqual(
    states.map((s) => s.reused).sort(),
    [false, true],
    'one started it, the other waited and reused it',
  )
  assert.deepEqual(processesUsing(join(brokerDir, 'server.properties')), [states[0]!.pid])
  assert.ok(alive(main.pid!))
})

test('secrets: server.properties and the keystore are private (0600); no password on any command line', async () => {
  await addLocalBroker({ env }) // its configuration and format too
  const mode = (path: string): number => statSync(path).mode & 0o777
  assert.equal(mode(join(brokerDir, 'server.properties')), 0o600)
  assert.equal(mode(join(brokerDir, 'nodes', 'node-2', 'server.properties')), 0o600)
  const tls = devTlsFiles(env)
  assert.equal(mode(tls.keystoreFile), 0o600, 'the keystore (private key)')
  assert.match(readFileSync(tls.caFile, 'utf8'), /BEGIN CERTIFICATE/)

  const commandLines = recordedCommandLines(javaLog)
  assert.ok(
    commandLines.some((c) => c[0] === 'keytool'),
    'the keystore was made in this test',
  )
  assert.ok(commandLines.some((c) => c.includes('kafka.Kafka')))
  assert.ok(
    commandLines.some((c) => c.some((a) => a.startsWith('@'))),
    'tools got their arguments from a file',
  )
  for (const secret of [DEV_SASL_USER.password, tls.password]) {
    const leaked = commandLines.filter((c) => c.some((a) => a.includes(secret)))
    assert.deepEqual(leaked, [], `"${secret}" appears on a command line`)
  }
  // The keystore opens with the password from the properties file.
  const listed = execFileSync(
    'keytool',
    ['-list', '-keystore', tls.keystoreFile, '-storetype', 'PKCS12', '-storepass', tls.password],
    { encoding: 'utf8' },
  )
  assert.match(listed, /broker, .*PrivateKeyEntry/)
})
