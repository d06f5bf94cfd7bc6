import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  log4jProperties,
  scramFormatArguments,
  serverProperties,
  tlsCertificateCommands,
} from './broker-config.ts'
import { probeBroker, shareGroupsUnavailableReason } from './broker-probe.ts'
import { DevKafkaError } from './errors.ts'
import { findJava } from './java-runtime.ts'
import { resolveKafkaJars } from './kafka-jars.ts'
import { kafkaVersion } from './kafka-version.ts'
import { brokerDir, cacheRoot } from './paths.ts'

/** What `multilane kafka status` reports and what the test harness connects to. */
export interface LocalKafkaState {
  pid: number
  bootstrap: string
  port: number
  /** The SASL listener (`DEV_SASL_USER`; PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  saslBootstrap: string
  saslPort: number
  /** The TLS listener; trust `tlsCaFile` (PEM) to connect. */
  tlsBootstrap: string
  tlsPort: number
  tlsCaFile: string
  controllerPort: number
  version: string
  dataDir: string
  logFile: string
  startedAt: string
}

export interface StartLocalKafkaOptions {
  /** Broker port; default 9092 when free, else any free port. A given port must be free. */
  port?: number
  /** How long to wait for the broker to answer (default 90 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Progress lines for a CLI ("resolving jars…", "formatting…"). */
  onProgress?: (message: string) => void
  /**
   * Restart on the data a `stop --keep` left (same ports, topics and committed offsets)
   * instead of formatting fresh storage. Without kept data this is an ordinary start.
   */
  restart?: boolean
}

export interface StartLocalKafkaResult {
  state: LocalKafkaState
  /** True when a broker that was already running was reused. */
  reused: boolean
  /** Milliseconds spent per phase: jars, format, boot (until the broker answered and share groups worked). */
  timings: Record<string, number>
  jarSource: 'kafka-home' | 'cache' | 'maven' | 'running'
}

const DEFAULT_PORT = 9092
const STATE_FILE = 'state.json'
/** Written by `stop --keep`: what a later `start --restart` resumes. */
const KEPT_FILE = 'kept.json'

function statePath(env: NodeJS.ProcessEnv): string {
  return join(brokerDir(env), STATE_FILE)
}

function readState(env: NodeJS.ProcessEnv): LocalKafkaState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(env), 'utf8')) as LocalKafkaState
  } catch {
    return undefined
  }
}

/** True when `pid` is alive and (on Linux) still a Kafka broker, not a recycled pid. */
function isBrokerProcess(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka')
  } catch {
    return true
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Kafka cluster ids are 16 random bytes in URL-safe base64 without padding, never starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

function logTail(logFile: string, lines = 30): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log written)'
  }
}

/** Runs a program to completion with its output appended to the broker log. */
async function runTool(program: string, args: string[], logFile: string, label: string): Promise<void> {
  const out = openSync(logFile, 'a')
  try {
    const child = spawn(program, args, { stdio: ['ignore', out, out] })
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', resolve)
    })
    if (code !== 0) {
      throw new DevKafkaError('BROKER_EXITED', `${label} failed (exit ${code}):\n${logTail(logFile)}`)
    }
  } finally {
    closeSync(out)
  }
}

/** The state of the local broker, or undefined when none is running. Removes a stale state file. */
export async function localKafkaStatus(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalKafkaState | undefined> {
  const state = readState(env)
  if (!state) return undefined
  if (isBrokerProcess(state.pid)) return state
  rmSync(statePath(env), { force: true })
  return undefined
}

/**
 * Starts the single local development broker, or reuses the one already running. Resolves
 * once the broker answers ApiVersions and a share group can be joined.
 */
export async function startLocalKafka(options: StartLocalKafkaOptions = {}): Promise<StartLocalKafkaResult> {
  const env = options.env ?? process.env
  const progress = options.onProgress ?? (() => {})
  const timings: Record<string, number> = {}
  const running = await localKafkaStatus(env)
  if (running) {
    if (options.port !== undefined && options.port !== running.port) {
      throw new DevKafkaError(
        'ALREADY_RUNNING_ELSEWHERE',
        `A local broker is already running on port ${running.port} (pid ${running.pid}); ` +
          `run \`multilane kafka stop\` before starting one on port ${options.port}.`,
      )
    }
    await probeBroker({ host: '127.0.0.1', port: running.port })
    return { state: running, reused: true, timings, jarSource: 'running' }
  }

  const java = findJava(env)
  let started = performance.now()
  progress('resolving Apache Kafka jars')
  const jars = resolveKafkaJars(kafkaVersion(env), env)
  timings.jars = Math.round(performance.now() - started)

  const dir = brokerDir(env)
  const dataDir = join(dir, 'data')
  const logFile = join(dir, 'broker.log')
  const propertiesFile = join(dir, 'server.properties')
  const log4jFile = join(dir, 'log4j2.properties')
  const kept = options.restart ? readKept(env) : undefined

  let port = kept?.port ?? options.port ?? DEFAULT_PORT
  if (!(await portIsFree(port))) {
    if (options.port !== undefined || kept) {
      throw new DevKafkaError(
        'PORT_IN_USE',
        `Port ${port} on 127.0.0.1 is in use; choose another with --port, or stop whatever listens there.`,
      )
    }
    port = await freePort()
  }
  const controllerPort = kept?.controllerPort ?? (await freePort())
  const saslPort = kept?.saslPort ?? (await freePort())
  const tlsPort = kept?.tlsPort ?? (await freePort())
  // Made once per machine (10-year validity) and reused: each keytool run costs a JVM start.
  const tlsDir = join(cacheRoot(env), 'tls')
  const keystoreFile = join(tlsDir, 'broker-keystore.p12')
  const tlsCaFile = join(tlsDir, 'broker-ca.pem')
  // A development keystore on loopback; the password only protects the file from nobody.
  const tlsPassword = 'multilane-dev-keystore'

  const jvmBase = [
    '-cp',
    jars.classpath,
    `-Dlog4j2.configurationFile=${log4jFile}`,
    '-Djava.awt.headless=true',
  ]
  rmSync(join(dir, KEPT_FILE), { force: true })
  started = performance.now()
  if (kept) {
    progress(`restarting on the kept data in ${dataDir}`)
  } else {
    // Data is ephemeral: every (non-restart) start formats a fresh single-node cluster.
    rmSync(dataDir, { recursive: true, force: true })
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(logFile, '')
    writeFileSync(
      propertiesFile,
      serverProperties({
        port,
        saslPort,
        tls: { port: tlsPort, keystoreFile, password: tlsPassword },
        controllerPort,
        dataDir,
      }),
    )
    writeFileSync(log4jFile, log4jProperties(logFile))
    progress(`formatting KRaft storage for Apache Kafka ${jars.version}`)
    const certificate = (async () => {
      if (existsSync(keystoreFile) && existsSync(tlsCaFile)) return
      mkdirSync(tlsDir, { recursive: true })
      rmSync(keystoreFile, { force: true })
      rmSync(tlsCaFile, { force: true })
      for (const args of tlsCertificateCommands(keystoreFile, tlsCaFile, tlsPassword)) {
        await runTool(java.keytool, args, logFile, 'Creating the TLS certificate (keytool)')
      }
    })()
    const format = runTool(
      java.executable,
      [
        ...jvmBase,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId(),
        '-c',
        propertiesFile,
        '--standalone',
        ...scramFormatArguments(),
      ],
      logFile,
      'Formatting KRaft storage (kafka.tools.StorageTool)',
    )
    await Promise.all([certificate, format])
  }
  timings.format = Math.round(performance.now() - started)

  started = performance.now()
  progress(`starting the broker on 127.0.0.1:${port}`)
  const out = openSync(logFile, 'a')
  const child = spawn(
    java.executable,
    [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      ...jvmBase,
      'kafka.Kafka',
      propertiesFile,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  )
  closeSync(out)
  child.unref()
  let exitCode: number | null | undefined
  child.once('exit', (code) => {
    exitCode = code
  })
  const pid = child.pid
  if (pid === undefined) throw new DevKafkaError('BROKER_EXITED', `could not spawn ${java.executable}`)

  const timeoutMs = options.timeoutMs ?? 90_000
  const deadline = Date.now() + timeoutMs
  const address = { host: '127.0.0.1', port }
  for (;;) {
    if (exitCode !== undefined) {
      throw new DevKafkaError(
        'BROKER_EXITED',
        `The Kafka broker exited during start (code ${exitCode}). Last lines of ${logFile}:\n${logTail(logFile)}`,
      )
    }
    try {
      const facts = await probeBroker(address, 1000)
      const reason = await shareGroupsUnavailableReason(address, facts)
      if (reason) {
        process.kill(pid, 'SIGKILL')
        throw new DevKafkaError(
          'SHARE_GROUPS_UNAVAILABLE',
          `The broker started but share groups cannot be used: ${reason}.`,
        )
      }
      break
    } catch (error) {
      if (error instanceof DevKafkaError) throw error
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL')
        throw new DevKafkaError(
          'BROKER_START_TIMEOUT',
          `The Kafka broker did not answer within ${timeoutMs} ms. Last lines of ${logFile}:\n${logTail(logFile)}`,
        )
      }
      await sleep(250)
    }
  }
  timings.boot = Math.round(performance.now() - started)

  const state: LocalKafkaState = {
    pid,
    bootstrap: `127.0.0.1:${port}`,
    port,
    saslBootstrap: `127.0.0.1:${saslPort}`,
    saslPort,
    tlsBootstrap: `127.0.0.1:${tlsPort}`,
    tlsPort,
    tlsCaFile,
    controllerPort,
    version: jars.version,
    dataDir,
    logFile,
    startedAt: new Date().toISOString(),
  }
  writeFileSync(statePath(env), `${JSON.stringify(state, null, 2)}\n`)
  return { state, reused: false, timings, jarSource: jars.source }
}

function readKept(env: NodeJS.ProcessEnv): LocalKafkaState | undefined {
  try {
    const kept = JSON.parse(readFileSync(join(brokerDir(env), KEPT_FILE), 'utf8')) as LocalKafkaState
    return existsSync(join(kept.dataDir, 'meta.properties')) ? kept : undefined
  } catch {
    return undefined
  }
}

export interface StopLocalKafkaOptions {
  /** Keep the data directory (for inspection, or `start --restart`); a plain start formats fresh data. */
  keep?: boolean
  /** How long to wait after SIGTERM before SIGKILL (default 20 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

/** Stops the local broker (SIGTERM, then SIGKILL). Returns the state it stopped, or undefined if none ran. */
export async function stopLocalKafka(
  options: StopLocalKafkaOptions = {},
): Promise<LocalKafkaState | undefined> {
  const env = options.env ?? process.env
  const state = readState(env)
  if (!state) return undefined
  if (isBrokerProcess(state.pid)) {
    process.kill(state.pid, 'SIGTERM')
    const deadline = Date.now() + (options.timeoutMs ?? 20_000)
    while (isBrokerProcess(state.pid) && Date.now() < deadline) await sleep(100)
    if (isBrokerProcess(state.pid)) {
      process.kill(state.pid, 'SIGKILL')
      const killDeadline = Date.now() + 5000
      while (isBrokerProcess(state.pid) && Date.now() < killDeadline) await sleep(50)
      if (isBrokerProcess(state.pid)) {
        throw new DevKafkaError(
          'STOP_FAILED',
          `The broker (pid ${state.pid}) survived SIGKILL; check it with ps.`,
        )
      }
    }
  }
  rmSync(statePath(env), { force: true })
  if (options.keep) writeFileSync(join(brokerDir(env), KEPT_FILE), `${JSON.stringify(state, null, 2)}\n`)
  else if (existsSync(state.dataDir)) rmSync(state.dataDir, { recursive: true, force: true })
  return state
}
