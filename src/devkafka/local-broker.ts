import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { addBrokerLocked, addedBrokerRunning, addedBrokers, stopAddedBrokersLocked } from './added-broker.ts'
import { keptDataNote, markRunning, restartKept, type StartContext, startFresh } from './broker-launch.ts'
import { probeBroker } from './broker-probe.ts'
import { logTail, stopKafkaNode } from './broker-process.ts'
import { awaitBrokerReady, awaitGroupsReady } from './broker-ready.ts'
import {
  isRecordedBrokerAlive,
  type LocalKafkaState,
  otherListenerPorts,
  readKept,
  readState,
  writeKept,
} from './broker-state.ts'
import { acquireDirLock } from './dir-lock.ts'
import { DevKafkaError } from './errors.ts'
import { checkKafkaVersion, kafkaVersion } from './kafka-version.ts'
import type {
  StartLocalKafkaOptions,
  StartLocalKafkaResult,
  StopLocalKafkaOptions,
  StopLocalKafkaResult,
} from './local-broker-types.ts'
import { type BrokerFiles, brokerFiles } from './paths.ts'
import { findKafkaNodesOf } from './process-identity.ts'

export { type LocalKafkaState, localKafkaStatus } from './broker-state.ts'
export type {
  StartLocalKafkaOptions,
  StartLocalKafkaResult,
  StopLocalKafkaOptions,
  StopLocalKafkaResult,
} from './local-broker-types.ts'

/** The most brokers a local cluster may have (`--brokers`). */
export const MAX_BROKERS = 9

/**
 * Starts the local development broker of this directory (`MULTILANE_BROKER_DIR`, default
 * `~/.cache/multilane/broker`), or reuses the one already running (or, after an interrupted
 * start, still starting) there. Resolves once the broker answers ApiVersions and a share group
 * can be joined. Concurrent starts of one directory wait for each other (a lock file).
 */
export async function startLocalKafka(options: StartLocalKafkaOptions = {}): Promise<StartLocalKafkaResult> {
  const env = options.env ?? process.env
  const progress = options.onProgress ?? (() => {})
  // A bad version fails before anything happens.
  if (options.version !== undefined) checkKafkaVersion(options.version, 'version')
  const { brokers } = options
  if (brokers !== undefined && (!Number.isInteger(brokers) || brokers < 1 || brokers > MAX_BROKERS)) {
    throw new DevKafkaError(
      'INVALID_BROKER_COUNT',
      `brokers must be an integer from 1 to ${MAX_BROKERS}, got ${brokers}`,
    )
  }
  const version = options.version ?? kafkaVersion(env)
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
    if (options.version !== undefined && options.version !== recorded.version) {
      throw new DevKafkaError(
        'ALREADY_RUNNING_ELSEWHERE',
        `A local broker of Apache Kafka ${recorded.version} is already running in ${files.dir} (pid ${recorded.pid}); ` +
          `run \`multilane kafka stop\` before starting ${options.version}, or give it another MULTILANE_BROKER_DIR.`,
      )
    }
    if (options.acls === true && recorded.acls !== true) {
      throw new DevKafkaError(
        'ALREADY_RUNNING_ELSEWHERE',
        `A local broker without ACL mode is already running in ${files.dir} (pid ${recorded.pid}); ` +
          'run `multilane kafka stop` before `multilane kafka start --acls`, or give it another MULTILANE_BROKER_DIR.',
      )
    }
    const size = recorded.brokers ?? 1
    if (options.brokers !== undefined && options.brokers > size) {
      throw new DevKafkaError(
        'INVALID_BROKER_COUNT',
        `The local broker in ${files.dir} (pid ${recorded.pid}) was started ${size === 1 ? 'as a single broker' : `with ${size} brokers`}: ` +
          `its internal topics have replication factor ${Math.min(size, 3)}. A cluster of ${options.brokers} brokers must be started fresh: ` +
          `run \`multilane kafka stop\`, then \`multilane kafka start --brokers ${options.brokers}\`.`,
      )
    }
    if (recorded.phase === 'starting') {
      progress(
        `an earlier start was interrupted; its broker (pid ${recorded.pid}) is still starting: waiting for it`,
      )
      const started = performance.now()
      // With a controller quorum node 1 answers only once nodes 2 and 3 run: complete the cluster first.
      let features = recorded.quorum
        ? {}
        : await awaitBrokerReady({
            pid: recorded.pid,
            port: recorded.port,
            otherPorts: otherListenerPorts(recorded),
            logFile: recorded.logFile,
            timeoutMs,
            version: recorded.version,
            exited: () => (isRecordedBrokerAlive(recorded, env) ? undefined : 'it is gone'),
            probeGroups: size <= 1,
          }).catch((error: unknown) => {
            rmSync(files.stateFile, { force: true })
            throw keptDataNote(error, recorded.restarted, files)
          })
      if (size > 1) features = await completeClusterOrStop(env, files, recorded, timeoutMs, progress)
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
  if (recorded && (recorded.stoppedOnPurpose || addedBrokers(env).some(addedBrokerRunning))) {
    // A node stopped on purpose (`kafka broker stop 1`), or the controller gone under running
    // brokers: a fresh start would delete data someone may be about to restart.
    const running = addedBrokers(env).filter(addedBrokerRunning)
    throw new DevKafkaError(
      'NODE_STOPPED',
      `Node 1 of the local cluster in ${files.dir} is stopped` +
        (running.length > 0 ? ` while node ${running.map((b) => b.nodeId).join(', ')} still run` : '') +
        ': `multilane kafka broker start 1` restarts it on its data; `multilane kafka stop` ends the cluster (and deletes its data).',
    )
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
  const fresh = await startFresh(options, files, version, timeoutMs)
  if ((options.brokers ?? 1) <= 1) return fresh
  const started = performance.now()
  const features = await completeClusterOrStop(env, files, fresh.state, timeoutMs, progress)
  fresh.timings.brokers = Math.round(performance.now() - started)
  return { ...fresh, state: markRunning(env, files, fresh.state, features) }
}

/**
 * Brings a cluster whose first node answers to its recorded size: adds the brokers not yet
 * added, then waits until groups work (the probe creates the internal topics, replicated across
 * them). A failure stops every node of the cluster: a start never leaves half a cluster.
 */
async function completeClusterOrStop(
  env: NodeJS.ProcessEnv,
  files: BrokerFiles,
  first: LocalKafkaState,
  timeoutMs: number,
  progress: (message: string) => void,
): Promise<Record<string, number>> {
  const size = first.brokers ?? 1
  const firstGone = (): string | undefined =>
    isRecordedBrokerAlive(first, env)
      ? undefined
      : `Node 1 (pid ${first.pid}) exited during the cluster's start. Last lines of ${first.logFile}:\n${logTail(first.logFile)}\n`
  try {
    for (let id = 2; id <= size; id++) {
      if (addedBrokers(env).some((b) => b.nodeId === id)) continue
      progress(`adding broker ${id} of ${size}`)
      await addBrokerLocked(env, id, timeoutMs, first, firstGone)
    }
    progress(`waiting until groups work on the ${size}-broker cluster`)
    return await awaitGroupsReady(first.port, first.version, timeoutMs, firstGone)
  } catch (error) {
    await stopAddedBrokersLocked(env, 20_000).catch(() => {})
    await stopKafkaNode(first.pid, files.propertiesFile, 20_000).catch(() => {})
    rmSync(files.stateFile, { force: true })
    throw error
  }
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
  const release = await acquireDirLock(files.dir, {
    purpose: 'kafka stop',
    onWait: (holder) =>
      options.onProgress?.(
        `waiting for another launcher (pid ${holder.pid}, ${holder.purpose}) to finish with ${files.dir}`,
      ),
  })
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
    } else if (stopped || untracked.length > 0 || stale?.stoppedOnPurpose) {
      rmSync(files.dataDir, { recursive: true, force: true })
      rmSync(files.keptFile, { force: true })
    }
    return { stopped, stale, addedBrokers, untracked, kept }
  } finally {
    release()
  }
}
