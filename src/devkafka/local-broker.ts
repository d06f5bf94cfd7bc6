import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stopAddedBrokersLocked } from './added-broker.ts'
import { log4jProperties, scramFormatArguments, serverProperties } from './broker-config.ts'
import { probeBroker } from './broker-probe.ts'
import {
  type BrokerProcess,
  jvmArguments,
  runJavaTool,
  spawnBroker,
  stopKafkaNode,
} from './broker-process.ts'
import { awaitBrokerReady, logSince } from './broker-ready.ts'
import {
  isRecordedBrokerAlive,
  type LocalKafkaState,
  readKept,
  readState,
  writeKept,
  writeState,
} from './broker-state.ts'
import { ensureDevTls } from './dev-tls.ts'
import { acquireDirLock } from './dir-lock.ts'
import { DevKafkaError } from './errors.ts'
import { writePrivateFile } from './files.ts'
import { findJava, type JavaRuntime } from './java-runtime.ts'
import { type KafkaJars, resolveKafkaJars } from './kafka-jars.ts'
import { kafkaVersion, shareVersionFor } from './kafka-version.ts'
import { type BrokerFiles, brokerFiles, devTlsFiles } from './paths.ts'
import { isPortClash, portIsFree, reservePorts } from './ports.ts'
import { findKafkaNodesOf } from './process-identity.ts'

export { type LocalKafkaState, localKafkaStatus } from './broker-state.ts'

export interface StartLocalKafkaOptions {
  /** Broker port; default 9092 when free, else any free port. A given port must be free. */
  port?: number
  /** How long to wait for the broker to answer (default 90 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Progress lines for a CLI ("resolving jars…", "formatting…"). */
  onProgress?: (message: string) => void
  /**
   * Restart on the data a `stop --keep` left (same ports, Kafka version, topics and committed
   * offsets) instead of formatting fresh storage. Fails with NOTHING_TO_RESTART when nothing was
   * kept; a restart that fails leaves the kept data as it was, for another try.
   */
  restart?: boolean
  /**
   * Picks `count` free ports at once (default: `reservePorts`). For tests that make another
   * process take a picked port before the broker binds it.
   * @internal
   */
  reservePorts?: (count: number) => Promise<number[]>
}

export interface StartLocalKafkaResult {
  state: LocalKafkaState
  /** True when a broker that was already running (or starting) was reused. */
  reused: boolean
  /** True when the reused broker was left starting by an interrupted start and became ready here. */
  recovered: boolean
  /** Milliseconds spent per phase: jars, format, boot (until the broker answered and share groups worked). */
  timings: Record<string, number>
  jarSource: 'kafka-home' | 'cache' | 'maven' | 'running'
}

const DEFAULT_PORT = 9092
/** Start attempts when another process takes a picked port before the broker binds it. */
const PORT_ATTEMPTS = 3

/** Kafka cluster ids are 16 random bytes in URL-safe base64 without padding, never starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/**
 * Starts the local development broker of this directory (`MULTILANE_BROKER_DIR`, default
 * `~/.cache/multilane/broker`), or reuses the one already running (or, after an interrupted
 * start, still starting) there. Resolves once the broker answers ApiVersions and a share group
 * can be joined. Concurrent starts of one directory wait for each other (a lock file).
 */
export async function startLocalKafka(options: StartLocalKafkaOptions = {}): Promise<StartLocalKafkaResult> {
  const env = options.env ?? process.env
  const progress = options.onProgress ?? (() => {})
  const version = kafkaVersion(env) // a bad MULTILANE_KAFKA_VERSION fails before anything happens
  const files = brokerFiles(env)
  const release = await acquireDirLock(files.dir, {
    purpose: 'kafka start',
    onWait: (holder) =>
      progress(
        `waiting for another launcher (pid ${holder.pid}, ${holder.purpose}) to finish with ${files.dir}`,
      ),
  })
  try {
    return await startLocked({ ...options, env, onProgress: progress }, files, version)
  } finally {
    release()
  }
}

type StartContext = StartLocalKafkaOptions & { env: NodeJS.ProcessEnv; onProgress: (m: string) => void }

async function startLocked(
  options: StartContext,
  files: BrokerFiles,
  version: string,
): Promise<StartLocalKafkaResult> {
  const { env, onProgress: progress } = options
  const timeoutMs = options.timeoutMs ?? 90_000
  const recorded = readState(env)
  if (recorded && isRecordedBrokerAlive(recorded, env)) {
    if (options.port !== undefined && options.port !== recorded.port) {
      throw new DevKafkaError(
        'ALREADY_RUNNING_ELSEWHERE',
        `A local broker is already running in ${files.dir} on port ${recorded.port} (pid ${recorded.pid}); ` +
          `run \`multilane kafka stop\` before starting one on port ${options.port}.`,
      )
    }
    if (recorded.phase === 'starting') {
      progress(
        `an earlier start was interrupted; its broker (pid ${recorded.pid}) is still starting: waiting for it`,
      )
      const started = performance.now()
      const features = await awaitBrokerReady({
        pid: recorded.pid,
        port: recorded.port,
        logFile: recorded.logFile,
        timeoutMs,
        exited: () => (isRecordedBrokerAlive(recorded, env) ? undefined : 'it is gone'),
      }).catch((error: unknown) => {
        rmSync(files.stateFile, { force: true })
        throw keptDataNote(error, recorded.restarted, files)
      })
      const state = markRunning(env, files, recorded, features)
      return {
        state,
        reused: true,
        recovered: true,
        timings: { boot: Math.round(performance.now() - started) },
        jarSource: 'running',
      }
    }
    await probeBroker({ host: '127.0.0.1', port: recorded.port })
    return { state: recorded, reused: true, recovered: false, timings: {}, jarSource: 'running' }
  }
  if (recorded) {
    progress(`the broker recorded in ${files.stateFile} (pid ${recorded.pid}) no longer runs`)
    rmSync(files.stateFile, { force: true })
  }
  const untracked = findKafkaNodesOf(files.propertiesFile)
  if (untracked.length > 0) {
    throw new DevKafkaError(
      'BROKER_UNTRACKED',
      `A broker of ${files.dir} runs (pid ${untracked.join(', ')}) without a record in ${files.stateFile}; ` +
        'stop it with `multilane kafka stop` (same MULTILANE_BROKER_DIR), then start again.',
    )
  }
  // Brokers added to a cluster that is gone (a crash, a reboot) cannot join a new one.
  await stopAddedBrokersLocked(env, 20_000)

  const kept = readKept(env)
  if (options.restart) {
    if (!kept || !existsSync(join(files.dataDir, 'meta.properties'))) {
      throw new DevKafkaError(
        'NOTHING_TO_RESTART',
        `Nothing to restart in ${files.dir}: no data kept by \`multilane kafka stop --keep\`. ` +
          'Start without --restart for a fresh broker.',
      )
    }
    return restartKept(options, files, kept, timeoutMs)
  }
  if (kept) {
    progress(
      `discarding the data kept by \`kafka stop --keep\` in ${files.dataDir} (start --restart resumes it)`,
    )
    rmSync(files.keptFile, { force: true })
  }
  return startFresh(options, files, version, timeoutMs)
}

/** A fresh single-node cluster: new storage, new cluster id, ports picked now. */
async function startFresh(
  options: StartContext,
  files: BrokerFiles,
  version: string,
  timeoutMs: number,
): Promise<StartLocalKafkaResult> {
  const { env, onProgress: progress } = options
  const timings: Record<string, number> = {}
  const java = findJava(env)
  let started = performance.now()
  progress('resolving Apache Kafka jars')
  const jars = resolveKafkaJars(version, env)
  timings.jars = Math.round(performance.now() - started)
  const jvmBase = jvmArguments(jars.classpath, files.log4jFile)

  // Data is ephemeral: every (non-restart) start formats a fresh single-node cluster.
  rmSync(files.dataDir, { recursive: true, force: true })
  mkdirSync(files.dataDir, { recursive: true })
  writeFileSync(files.logFile, '')
  writeFileSync(files.log4jFile, log4jProperties(files.logFile))
  started = performance.now()
  const tls = ensureDevTls(java, files.logFile, env)
  tls.catch(() => {}) // awaited below; a failure must not go unhandled meanwhile
  const pick = options.reservePorts ?? reservePorts
  for (let attempt = 1; ; attempt++) {
    let port = options.port ?? DEFAULT_PORT
    if (!(await portIsFree(port))) {
      if (options.port !== undefined) {
        throw new DevKafkaError(
          'PORT_IN_USE',
          `Port ${port} on 127.0.0.1 is in use; choose another with --port, or stop whatever listens there.`,
        )
      }
      port = 0
    }
    const picked = (await pick(4)).filter((p) => p !== port)
    if (port === 0) port = picked.shift() as number
    const [controllerPort, saslPort, tlsPort] = picked as [number, number, number]
    writePrivateFile(
      files.propertiesFile,
      serverProperties({
        port,
        saslPort,
        tls: {
          port: tlsPort,
          keystoreFile: devTlsFiles(env).keystoreFile,
          password: devTlsFiles(env).password,
        },
        controllerPort,
        dataDir: files.dataDir,
      }),
    )
    if (attempt > 1) {
      rmSync(files.dataDir, { recursive: true, force: true })
      mkdirSync(files.dataDir, { recursive: true })
    }
    progress(`formatting KRaft storage for Apache Kafka ${jars.version}`)
    await format(java, jvmBase, jars, files)
    await tls
    if (attempt === 1) timings.format = Math.round(performance.now() - started)

    started = performance.now()
    progress(`starting the broker on 127.0.0.1:${port}`)
    const logOffset = statSync(files.logFile).size
    const state: LocalKafkaState = {
      phase: 'starting',
      pid: 0,
      bootstrap: `127.0.0.1:${port}`,
      port,
      saslBootstrap: `127.0.0.1:${saslPort}`,
      saslPort,
      tlsBootstrap: `127.0.0.1:${tlsPort}`,
      tlsPort,
      tlsCaFile: devTlsFiles(env).caFile,
      controllerPort,
      version: jars.version,
      dir: files.dir,
      dataDir: files.dataDir,
      logFile: files.logFile,
      startedAt: new Date().toISOString(),
      restarted: false,
    }
    const broker = spawnRecorded(env, java, jvmBase, files, state)
    try {
      const features = await awaitBrokerReady({
        pid: broker.pid,
        port,
        logFile: files.logFile,
        timeoutMs,
        exited: () => broker.exit,
      })
      timings.boot = Math.round(performance.now() - started)
      return {
        state: markRunning(env, files, state, features),
        reused: false,
        recovered: false,
        timings,
        jarSource: jars.source,
      }
    } catch (error) {
      rmSync(files.stateFile, { force: true })
      const clash =
        error instanceof DevKafkaError &&
        error.code === 'BROKER_EXITED' &&
        isPortClash(logSince(files.logFile, logOffset))
      if (!clash || attempt >= PORT_ATTEMPTS) throw error
      progress(
        'another process took one of the picked ports before the broker bound it; retrying with other ports',
      )
    }
  }
}

/** Formats the storage: SCRAM credentials and features go through a private argument file. */
async function format(
  java: JavaRuntime,
  jvmBase: string[],
  jars: KafkaJars,
  files: BrokerFiles,
): Promise<void> {
  const shareVersion = shareVersionFor(jars.version)
  await runJavaTool(
    java.executable,
    [
      ...jvmBase,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId(),
      '-c',
      files.propertiesFile,
      '--standalone',
      ...scramFormatArguments(),
      ...(shareVersion === undefined ? [] : ['--feature', `share.version=${shareVersion}`]),
    ],
    files.logFile,
    'Formatting KRaft storage (kafka.tools.StorageTool)',
  )
}

/** Restarts on kept data, with the ports and Kafka version that wrote it. */
async function restartKept(
  options: StartContext,
  files: BrokerFiles,
  kept: LocalKafkaState,
  timeoutMs: number,
): Promise<StartLocalKafkaResult> {
  const { env, onProgress: progress } = options
  const timings: Record<string, number> = {}
  const java = findJava(env)
  let started = performance.now()
  const jars = resolveKafkaJars(kept.version, env)
  timings.jars = Math.round(performance.now() - started)
  const named: Array<[string, number]> = [
    ['client', kept.port],
    ['SASL', kept.saslPort],
    ['TLS', kept.tlsPort],
    ['controller', kept.controllerPort],
  ]
  for (const [name, port] of named) {
    if (!(await portIsFree(port))) {
      throw new DevKafkaError(
        'PORT_IN_USE',
        `The kept broker's ${name} port ${port} on 127.0.0.1 is in use; stop whatever listens there, then run ` +
          `\`multilane kafka start --restart\` again (the kept data in ${files.dataDir} is untouched).`,
      )
    }
  }
  if (options.port !== undefined && options.port !== kept.port) {
    throw new DevKafkaError(
      'PORT_IN_USE',
      `The kept broker listened on port ${kept.port}; a restart keeps its ports (omit --port).`,
    )
  }
  const tls = await ensureDevTls(java, files.logFile, env)
  // Rewritten from the kept ports: current settings, private permissions.
  writePrivateFile(
    files.propertiesFile,
    serverProperties({
      port: kept.port,
      saslPort: kept.saslPort,
      tls: { port: kept.tlsPort, keystoreFile: tls.keystoreFile, password: tls.password },
      controllerPort: kept.controllerPort,
      dataDir: files.dataDir,
    }),
  )
  writeFileSync(files.log4jFile, log4jProperties(files.logFile))
  const jvmBase = jvmArguments(jars.classpath, files.log4jFile)
  started = performance.now()
  progress(`restarting Apache Kafka ${jars.version} on the kept data in ${files.dataDir}`)
  const state: LocalKafkaState = {
    ...kept,
    phase: 'starting',
    pid: 0,
    version: jars.version,
    dir: files.dir,
    dataDir: files.dataDir,
    logFile: files.logFile,
    tlsCaFile: tls.caFile,
    startedAt: new Date().toISOString(),
    restarted: true,
  }
  delete state.features
  const broker = spawnRecorded(env, java, jvmBase, files, state)
  try {
    const features = await awaitBrokerReady({
      pid: broker.pid,
      port: kept.port,
      logFile: files.logFile,
      timeoutMs,
      exited: () => broker.exit,
    })
    timings.boot = Math.round(performance.now() - started)
    return {
      state: markRunning(env, files, state, features),
      reused: false,
      recovered: false,
      timings,
      jarSource: jars.source,
    }
  } catch (error) {
    rmSync(files.stateFile, { force: true })
    throw keptDataNote(error, true, files)
  }
}

/**
 * Spawns the node and records it at once (phase `starting`), before it can outlive this call:
 * an interrupted start (Ctrl-C, a kill) leaves a broker that status, stop and the next start
 * find. A kill in the instant between the two is covered by `findKafkaNodesOf`.
 */
function spawnRecorded(
  env: NodeJS.ProcessEnv,
  java: JavaRuntime,
  jvmBase: string[],
  files: BrokerFiles,
  state: LocalKafkaState,
): BrokerProcess {
  const broker = spawnBroker(java.executable, jvmBase, files.propertiesFile, files.logFile)
  state.pid = broker.pid
  writeState(env, state)
  return broker
}

function markRunning(
  env: NodeJS.ProcessEnv,
  files: BrokerFiles,
  state: LocalKafkaState,
  features: Record<string, number>,
): LocalKafkaState {
  const running: LocalKafkaState = { ...state, phase: 'running', features }
  writeState(env, running)
  // The kept data now belongs to the running broker; only now is the kept record done with.
  if (running.restarted) rmSync(files.keptFile, { force: true })
  return running
}

/** A failed restart says that the kept data is still there. */
function keptDataNote(error: unknown, restarted: boolean, files: BrokerFiles): unknown {
  if (!restarted || !(error instanceof DevKafkaError) || !existsSync(files.keptFile)) return error
  return new DevKafkaError(
    error.code,
    `${error.message}\nThe data kept by \`multilane kafka stop --keep\` is untouched in ${files.dataDir}; ` +
      'fix the cause and run `multilane kafka start --restart` again.',
    { cause: error },
  )
}

export interface StopLocalKafkaOptions {
  /** Keep the data directory (for inspection, or `start --restart`); a plain start formats fresh data. */
  keep?: boolean
  /** How long to wait after SIGTERM before SIGKILL (default 20 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

export interface StopLocalKafkaResult {
  /** The broker that was stopped (its process has exited); undefined when none ran. */
  stopped: LocalKafkaState | undefined
  /** A record of a broker that no longer ran: removed, nothing signalled, its data left as it was. */
  stale: LocalKafkaState | undefined
  /** Brokers added to the cluster that were stopped with it. */
  addedBrokers: number
  /** Nodes of this directory that ran without a record and were stopped. */
  untracked: number[]
  /** True when the data was kept for `start --restart`. */
  kept: boolean
}

/**
 * Stops the local broker of this directory (SIGTERM, then SIGKILL) and the brokers added to it,
 * and resolves once their processes have exited. Only processes proven to be this directory's
 * nodes are signalled; a record of a broker that no longer runs is removed without signalling
 * anything. Deletes the data unless `keep`.
 */
export async function stopLocalKafka(options: StopLocalKafkaOptions = {}): Promise<StopLocalKafkaResult> {
  const env = options.env ?? process.env
  const files = brokerFiles(env)
  const timeoutMs = options.timeoutMs ?? 20_000
  if (!existsSync(files.dir))
    return { stopped: undefined, stale: undefined, addedBrokers: 0, untracked: [], kept: false }
  const release = await acquireDirLock(files.dir, { purpose: 'kafka stop' })
  try {
    // Added brokers first: they cannot outlive the controller, and their data is never kept.
    const addedBrokers = await stopAddedBrokersLocked(env, timeoutMs)
    const state = readState(env)
    let stopped: LocalKafkaState | undefined
    let stale: LocalKafkaState | undefined
    if (state) {
      if (await stopKafkaNode(state.pid, files.propertiesFile, timeoutMs)) stopped = state
      else stale = state
      rmSync(files.stateFile, { force: true })
    }
    const untracked = findKafkaNodesOf(files.propertiesFile)
    for (const pid of untracked) await stopKafkaNode(pid, files.propertiesFile, timeoutMs)
    let kept = false
    const hasData = existsSync(join(files.dataDir, 'meta.properties'))
    if (options.keep) {
      const record = stopped ?? stale
      if (record && hasData) {
        writeKept(env, { ...record, phase: 'running', dataDir: files.dataDir })
        kept = true
      }
    } else if (stopped || untracked.length > 0) {
      rmSync(files.dataDir, { recursive: true, force: true })
      rmSync(files.keptFile, { force: true })
    }
    return { stopped, stale, addedBrokers, untracked, kept }
  } finally {
    release()
  }
}
