import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { addedBrokers, stopAddedBroker } from './added-broker.ts'
import {
  log4jProperties,
  scramFormatArguments,
  serverProperties,
  tlsCertificateCommands,
} from './broker-config.ts'
import { probeBroker, shareGroupsUnavailableReason } from './broker-probe.ts'
import {
  freePort,
  jvmArguments,
  logTail,
  portIsFree,
  runTool,
  spawnBroker,
  stopBrokerProcess,
} from './broker-process.ts'
import { type LocalKafkaState, localKafkaStatus, readState, statePath, writeState } from './broker-state.ts'
import { DevKafkaError } from './errors.ts'

export { type LocalKafkaState, localKafkaStatus } from './broker-state.ts'

import { findJava } from './java-runtime.ts'
import { resolveKafkaJars } from './kafka-jars.ts'
import { kafkaVersion } from './kafka-version.ts'
import { brokerDir, devTlsFiles } from './paths.ts'

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
/** Written by `stop --keep`: what a later `start --restart` resumes. */
const KEPT_FILE = 'kept.json'

/** Kafka cluster ids are 16 random bytes in URL-safe base64 without padding, never starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
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

  // Brokers added to a cluster that is gone (a crash, a reboot) cannot join a new one.
  for (const added of addedBrokers(env)) await stopAddedBroker(added.nodeId, { env })
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
  const { dir: tlsDir, keystoreFile, caFile: tlsCaFile, password: tlsPassword } = devTlsFiles(env)

  const jvmBase = jvmArguments(jars.classpath, log4jFile)
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
  const broker = spawnBroker(java.executable, jvmBase, propertiesFile, logFile)
  const { pid } = broker

  const timeoutMs = options.timeoutMs ?? 90_000
  const deadline = Date.now() + timeoutMs
  const address = { host: '127.0.0.1', port }
  for (;;) {
    if (broker.exitCode !== undefined) {
      throw new DevKafkaError(
        'BROKER_EXITED',
        `The Kafka broker exited during start (code ${broker.exitCode}). Last lines of ${logFile}:\n${logTail(logFile)}`,
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
  writeState(env, state)
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
  // Added brokers first: they cannot outlive the controller, and their data is never kept.
  for (const added of addedBrokers(env)) await stopAddedBroker(added.nodeId, options)
  await stopBrokerProcess(state.pid, options.timeoutMs ?? 20_000)
  rmSync(statePath(env), { force: true })
  if (options.keep) writeFileSync(join(brokerDir(env), KEPT_FILE), `${JSON.stringify(state, null, 2)}\n`)
  else if (existsSync(state.dataDir)) rmSync(state.dataDir, { recursive: true, force: true })
  return state
}
