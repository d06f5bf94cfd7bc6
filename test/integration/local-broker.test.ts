// The launcher itself, on a second broker in its own directory (the suite's broker keeps running):
// start, reuse on a second start, status, stop leaving no java process; and its clear errors.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { addLocalBroker } from '../../src/devkafka/added-broker.ts'
import { DevKafkaError } from '../../src/devkafka/errors.ts'
import { kafkaVersion } from '../../src/devkafka/kafka-version.ts'
import { localKafkaStatus, startLocalKafka, stopLocalKafka } from '../../src/devkafka/local-broker.ts'
import { devTlsFiles, jarCacheDir } from '../../src/devkafka/paths.ts'
import { reservePorts } from '../../src/devkafka/ports.ts'
import { bootstrapServers } from '../support/kafka.ts'
import { fullyExited, processesUsing } from '../support/launcher.ts'

function javaProcessesUsing(dir: string): number[] {
  return processesUsing(dir)
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

    const stopped = await stopLocalKafka({ env })
    assert.equal(stopped.stopped?.pid, first.state.pid)
    assert.ok(fullyExited(first.state.pid), 'stop resolves only once the process has exited completely')
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

test('a start whose picked port another process takes before the broker binds it retries with other ports', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-clash-'))
  const env = { ...process.env, MULTILANE_BROKER_DIR: dir }
  const thief = createServer()
  const progress: string[] = []
  let picks = 0
  try {
    const { state } = await startLocalKafka({
      env,
      onProgress: (m) => progress.push(m),
      // First pick: the SASL port is taken (listening) by the time the broker binds it.
      reservePorts: async (count) => {
        const ports = await reservePorts(count)
        if (picks++ === 0) {
          const stolen = ports.at(-2)!
          await new Promise<void>((resolve) => thief.listen({ port: stolen, host: '127.0.0.1' }, resolve))
        }
        return ports
      },
    })
    const stolen = (thief.address() as { port: number }).port
    assert.equal(picks, 2, 'the clash was retried once')
    assert.ok(
      progress.some((m) => /took one of the picked ports.*retrying/.test(m)),
      progress.join('\n'),
    )
    assert.ok(![state.port, state.saslPort, state.tlsPort, state.controllerPort].includes(stolen))
    assert.equal(new Set([state.port, state.saslPort, state.tlsPort, state.controllerPort]).size, 4)
    assert.equal((await localKafkaStatus(env))?.phase, 'running')
  } finally {
    thief.close()
    await stopLocalKafka({ env }).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
})

test('jar resolution never replaces jars another start uses; concurrent first resolutions both succeed', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'multilane-jars-'))
  const env = { ...process.env, MULTILANE_CACHE_DIR: cache }
  const version = kafkaVersion()
  const resolver = join(import.meta.dirname, '../../src/devkafka/kafka-jars.ts')
  const resolveInChild = () =>
    new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `(await import(${JSON.stringify(resolver)})).resolveKafkaJars('${version}')`,
        ],
        { env, stdio: 'inherit' },
      )
      child.once('exit', resolve)
    })
  try {
    // Two first-time resolutions at once (Maven copies from the local repository).
    assert.deepEqual(await Promise.all([resolveInChild(), resolveInChild()]), [0, 0])
    const libs = join(jarCacheDir(version, env), 'libs')
    const jar = join(libs, `kafka_2.13-${version}.jar`)
    const inode = statSync(jar).ino
    assert.deepEqual(
      execFileSync('ls', [jarCacheDir(version, env)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .sort(),
      ['libs'],
      'no staging directory is left (the marker is a dot file)',
    )
    // A start that began before the marker was written: it must not replace the jars in use.
    unlinkSync(join(jarCacheDir(version, env), '.complete'))
    assert.equal(await resolveInChild(), 0)
    assert.equal(statSync(jar).ino, inode, 'the jars in use were not replaced')
  } finally {
    rmSync(cache, { recursive: true, force: true })
  }
})

test('concurrent first starts each get a whole TLS keystore (private) and never delete one in use', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'multilane-tls-'))
  const env = { ...process.env, MULTILANE_CACHE_DIR: cache }
  const src = join(import.meta.dirname, '../../src/devkafka')
  // Staggered, so that later ones look while earlier ones are half done (the old launcher then
  // deleted the keystore another start had just made, and that start failed).
  const makeInChild = (n: number) =>
    new Promise<number | null>((resolve) => {
      setTimeout(
        () => {
          const child = spawn(
            process.execPath,
            [
              '--input-type=module',
              '-e',
              `const { ensureDevTls } = await import(${JSON.stringify(join(src, 'dev-tls.ts'))})
           const { findJava } = await import(${JSON.stringify(join(src, 'java-runtime.ts'))})
           await ensureDevTls(findJava(), ${JSON.stringify(join(cache, `keytool-${n}.log`))})`,
            ],
            { env, stdio: 'inherit' },
          )
          child.once('exit', resolve)
        },
        (n - 1) * 400,
      )
    })
  try {
    assert.deepEqual(await Promise.all([makeInChild(1), makeInChild(2), makeInChild(3)]), [0, 0, 0])
    const { keystoreFile, caFile, password } = devTlsFiles(env)
    assert.equal(statSync(keystoreFile).mode & 0o777, 0o600)
    // The certificate in the keystore is the one in the CA file (they were made together).
    const inKeystore = execFileSync(
      'keytool',
      ['-exportcert', '-rfc', '-alias', 'broker', '-keystore', keystoreFile, '-storepass', password],
      { encoding: 'utf8' },
    )
    const pem = (text: string) =>
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0]
    assert.equal(pem(inKeystore), pem(readFileSync(caFile, 'utf8')))
    assert.deepEqual(
      readdirSync(cache)
        .filter((f) => f.startsWith('tls'))
        .sort(),
      ['tls'],
      'no staging directory is left',
    )
  } finally {
    rmSync(cache, { recursive: true, force: true })
  }
})
