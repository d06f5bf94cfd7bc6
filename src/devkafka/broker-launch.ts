// Launching the local broker: a fresh cluster, or a restart on kept data. Called by
// startLocalKafka with the directory's lock held.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import {
  initialControllers,
  log4jProperties,
  type QuorumVoter,
  scramFormatArguments,
  serverProperties,
} from './broker-config.ts'
import { type BrokerProcess, jvmArguments, runJavaTool, spawnBroker } from './broker-process.ts'
import { awaitBrokerReady, logSince } from './broker-ready.ts'
import { type LocalKafkaState, otherListenerPorts, writeState } from './broker-state.ts'
import { ensureDevTls } from './dev-tls.ts'
import { DevKafkaError } from './errors.ts'
import { writePrivateFile } from './files.ts'
import { findJava, type JavaRuntime } from './java-runtime.ts'
import { type KafkaJars, resolveKafkaJars } from './kafka-jars.ts'
import { shareVersionFor } from './kafka-version.ts'
import type { StartLocalKafkaOptions, StartLocalKafkaResult } from './local-broker-types.ts'
import { type BrokerFiles, devTlsFiles } from './paths.ts'
import { isPortClash, portIsFree, reservePorts } from './ports.ts'

const DEFAULT_PORT = 9092
/** Start attempts when another process takes a picked port before the broker binds it. */
const PORT_ATTEMPTS = 3

/**
 * Kafka cluster and directory ids are 16 random bytes in URL-safe base64 without padding, never
 * starting with '-'.
 */
export function randomKafkaId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

export type StartContext = StartLocalKafkaOptions & {
  env: NodeJS.ProcessEnv
  onProgress: (m: string) => void
}

/**
 * A fresh cluster's first node: new storage, new cluster id, ports picked now. With `brokers` > 1
 * it resolves once node 1 answers, still recorded as `starting`.
 */
export async function startFresh(
  options: StartContext,
  files: BrokerFiles,
  version: string,
  timeoutMs: number,
): Promise<StartLocalKafkaResult> {
  const { env, onProgress: progress } = options
  // A cluster of more brokers: node 1 is ready once it answers; the caller adds the others,
  // then proves groups work on the whole cluster (its internal topics need them all).
  const brokers = options.brokers ?? 1
  const cluster = brokers > 1
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
  // With a controller quorum node 1 binds its client listeners only once nodes 2 and 3 have
  // joined, long after the port was found free: not the contested 9092, a port picked at random.
  const withQuorum = brokers >= 3
  for (let attempt = 1; ; attempt++) {
    let port = options.port ?? (withQuorum ? 0 : DEFAULT_PORT)
    if (port !== 0 && !(await portIsFree(port))) {
      if (options.port !== undefined) {
        throw new DevKafkaError(
          'PORT_IN_USE',
          `Port ${port} on 127.0.0.1 is in use; choose another with --port, or stop whatever listens there.`,
        )
      }
      port = 0
    }
    // A cluster of ≥ 3: nodes 2 and 3 are controllers too, their controller ports picked now
    // (every node's configuration and format names the whole quorum).
    const picked = (await pick(withQuorum ? 7 : 5)).filter((p) => p !== port)
    if (port === 0) port = picked.shift() as number
    const [controllerPort, saslPort, tlsPort, saslSslPort, port2, port3] = picked as [
      number,
      number,
      number,
      number,
      number,
      number,
    ]
    const quorum: QuorumVoter[] | undefined = withQuorum
      ? [
          { nodeId: 1, port: controllerPort, directoryId: randomKafkaId() },
          { nodeId: 2, port: port2, directoryId: randomKafkaId() },
          { nodeId: 3, port: port3, directoryId: randomKafkaId() },
        ]
      : undefined
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
        saslSslPort,
        ...(options.acls ? { acls: true } : {}),
        controllerPort,
        dataDir: files.dataDir,
        version: jars.version,
        ...(cluster ? { brokers } : {}),
        ...(quorum ? { quorum } : {}),
      }),
    )
    if (attempt > 1) {
      rmSync(files.dataDir, { recursive: true, force: true })
      mkdirSync(files.dataDir, { recursive: true })
    }
    progress(`formatting KRaft storage for Apache Kafka ${jars.version}`)
    await format(java, jvmBase, jars, files, quorum)
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
      saslSslBootstrap: `127.0.0.1:${saslSslPort}`,
      saslSslPort,
      ...(options.acls ? { acls: true } : {}),
      controllerPort,
      version: jars.version,
      dir: files.dir,
      dataDir: files.dataDir,
      logFile: files.logFile,
      startedAt: new Date().toISOString(),
      restarted: false,
      ...(cluster ? { brokers } : {}),
      ...(quorum ? { quorum } : {}),
    }
    const broker = spawnRecorded(env, java, jvmBase, files, state)
    // One controller of three cannot elect a leader, and node 1 cannot serve clients before
    // one is: the caller starts nodes 2 and 3, then waits for the whole cluster.
    if (quorum) {
      timings.boot = Math.round(performance.now() - started)
      return { state, reused: false, recovered: false, timings, jarSource: jars.source }
    }
    try {
      const features = await awaitBrokerReady({
        pid: broker.pid,
        port,
        otherPorts: [saslPort, tlsPort, saslSslPort, controllerPort],
        logFile: files.logFile,
        logOffset,
        timeoutMs,
        version: jars.version,
        exited: () => broker.exit,
        probeGroups: !cluster,
      })
      timings.boot = Math.round(performance.now() - started)
      return {
        // A cluster's first node stays `starting` until the whole cluster is ready.
        state: cluster ? { ...state, features } : markRunning(env, files, state, features),
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
  quorum: readonly QuorumVoter[] | undefined,
): Promise<void> {
  const shareVersion = shareVersionFor(jars.version)
  await runJavaTool(
    java.executable,
    [
      ...jvmBase,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      randomKafkaId(),
      '-c',
      files.propertiesFile,
      ...(quorum ? ['--initial-controllers', initialControllers(quorum)] : ['--standalone']),
      ...scramFormatArguments(),
      ...(shareVersion === undefined ? [] : ['--feature', `share.version=${shareVersion}`]),
    ],
    files.logFile,
    'Formatting KRaft storage (kafka.tools.StorageTool)',
  )
}

/** Restarts on kept data, with the ports and Kafka version that wrote it. */
export async function restartKept(
  options: StartContext,
  files: BrokerFiles,
  kept: LocalKafkaState,
  timeoutMs: number,
): Promise<StartLocalKafkaResult> {
  const { env, onProgress: progress } = options
  if ((kept.brokers ?? 1) > 1) {
    // Its internal topics have replicas on brokers whose data `stop --keep` did not keep.
    throw new DevKafkaError(
      'NOTHING_TO_RESTART',
      `The data kept in ${files.dataDir} is node 1 of a ${kept.brokers}-broker cluster: it cannot run alone. ` +
        'Start without --restart for a fresh cluster (`kafka broker stop`/`broker start` keep a node of a running cluster).',
    )
  }
  const timings: Record<string, number> = {}
  const java = findJava(env)
  let started = performance.now()
  const jars = resolveKafkaJars(kept.version, env)
  timings.jars = Math.round(performance.now() - started)
  const named: Array<[string, number]> = [
    ['client', kept.port],
    ['SASL', kept.saslPort],
    ['TLS', kept.tlsPort],
    ...(kept.saslSslPort === undefined ? [] : ([['SASL_SSL', kept.saslSslPort]] as Array<[string, number]>)),
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
      ...(kept.saslSslPort === undefined ? {} : { saslSslPort: kept.saslSslPort }),
      ...(kept.acls ? { acls: true } : {}),
      controllerPort: kept.controllerPort,
      dataDir: files.dataDir,
      version: jars.version,
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
  const logOffset = existsSync(files.logFile) ? statSync(files.logFile).size : 0
  const broker = spawnRecorded(env, java, jvmBase, files, state)
  try {
    const features = await awaitBrokerReady({
      pid: broker.pid,
      port: kept.port,
      otherPorts: otherListenerPorts(kept),
      logFile: files.logFile,
      logOffset,
      timeoutMs,
      version: jars.version,
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

export function markRunning(
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
export function keptDataNote(error: unknown, restarted: boolean, files: BrokerFiles): unknown {
  if (!restarted || !(error instanceof DevKafkaError) || !existsSync(files.keptFile)) return error
  return new DevKafkaError(
    error.code,
    `${error.message}\nThe data kept by \`multilane kafka stop --keep\` is untouched in ${files.dataDir}; ` +
      'fix the cause and run `multilane kafka start --restart` again.',
    { cause: error },
  )
}
