// More brokers for the local cluster, for what one node cannot show: partition leadership
// moving between brokers (NOT_LEADER_OR_FOLLOWER, a leader's connection going away).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin } from '@platformatic/kafka'
import {
  initialControllers,
  log4jProperties,
  scramFormatArguments,
  serverProperties,
} from './broker-config.ts'
import { jvmArguments, logTail, runJavaTool, spawnBroker, stopKafkaNode } from './broker-process.ts'
import { kill, logSince } from './broker-ready.ts'
import { type LocalKafkaState, localKafkaStatus } from './broker-state.ts'
import { acquireDirLock } from './dir-lock.ts'
import { DevKafkaError } from './errors.ts'
import { writeFileAtomic, writePrivateFile } from './files.ts'
import { findJava } from './java-runtime.ts'
import { resolveKafkaJars } from './kafka-jars.ts'
import { shareVersionFor } from './kafka-version.ts'
import { brokerFiles, devTlsFiles } from './paths.ts'
import { isPortClash, reservePorts } from './ports.ts'
import { isKafkaNodeOf } from './process-identity.ts'

/** A broker-only node that joined the local cluster. */
export interface AddedBroker {
  nodeId: number
  pid: number
  bootstrap: string
  port: number
  dataDir: string
  logFile: string
  /** Its configuration; the path on its command line is how the launcher recognises the process. */
  propertiesFile: string
}

export interface AddLocalBrokerOptions {
  /** Node id; default: one above the highest in the cluster (the first node is 1). */
  nodeId?: number
  /** How long to wait until the cluster lists the new broker (default 90 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

function nodesDir(env: NodeJS.ProcessEnv): string {
  return brokerFiles(env).nodesDir
}

export function nodeDir(env: NodeJS.ProcessEnv, nodeId: number): string {
  return join(nodesDir(env), `node-${nodeId}`)
}

/** The properties file an added node runs with: its mark on the JVM's command line. */
export function nodePropertiesFile(env: NodeJS.ProcessEnv, nodeId: number): string {
  return join(nodeDir(env, nodeId), 'server.properties')
}

/** Brokers added to the local cluster and still recorded (running or not). */
export function addedBrokers(env: NodeJS.ProcessEnv = process.env): AddedBroker[] {
  const dir = nodesDir(env)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      try {
        return [JSON.parse(readFileSync(join(dir, f), 'utf8')) as AddedBroker]
      } catch {
        return []
      }
    })
    .sort((a, b) => a.nodeId - b.nodeId)
}

/** Where an added node's record (`AddedBroker`) is kept. */
export function nodeRecordFile(env: NodeJS.ProcessEnv, nodeId: number): string {
  return join(nodesDir(env), `${nodeId}.json`)
}

export function writeAddedBroker(env: NodeJS.ProcessEnv, broker: AddedBroker): void {
  writeFileAtomic(nodeRecordFile(env, broker.nodeId), `${JSON.stringify(broker, null, 2)}\n`)
}

/**
 * Starts a broker-only node that joins the running local cluster (`startLocalKafka`), with the
 * same client listeners and settings; resolves once the cluster's metadata lists it. Added
 * brokers are ephemeral: `stopLocalKafka` stops them and deletes their data (`kafka broker
 * stop`, `stopLocalBrokerNode`, keeps it for a restart).
 */
export async function addLocalBroker(options: AddLocalBrokerOptions = {}): Promise<AddedBroker> {
  const env = options.env ?? process.env
  const nodeId = options.nodeId ?? Math.max(1, ...addedBrokers(env).map((b) => b.nodeId)) + 1
  if (!Number.isInteger(nodeId) || nodeId < 2) {
    throw new DevKafkaError(
      'INVALID_NODE_ID',
      `nodeId must be an integer ≥ 2 (node 1 is the controller), got ${nodeId}`,
    )
  }
  const release = await acquireDirLock(brokerFiles(env).dir, { purpose: `add broker ${nodeId}` })
  try {
    const cluster = await localKafkaStatus(env)
    if (cluster?.phase !== 'running') {
      throw new DevKafkaError(
        'NOT_RUNNING',
        'No local broker is running; start one with `multilane kafka start` first.',
      )
    }
    return await addBrokerLocked(env, nodeId, options.timeoutMs ?? 90_000, cluster)
  } finally {
    release()
  }
}

/**
 * Adds node `nodeId` to the cluster whose first node is `cluster` (the directory's lock held by
 * the caller; the first node answers, though the cluster may still be starting).
 */
export async function addBrokerLocked(
  env: NodeJS.ProcessEnv,
  nodeId: number,
  timeoutMs: number,
  cluster: LocalKafkaState,
  /** Why the cluster is gone (node 1 exited during a cluster's start), else undefined. */
  clusterGone: () => string | undefined = () => undefined,
): Promise<AddedBroker> {
  const existing = addedBrokers(env).find((b) => b.nodeId === nodeId)
  if (existing && isKafkaNodeOf(existing.pid, nodePropertiesFile(env, nodeId))) {
    throw new DevKafkaError('INVALID_NODE_ID', `broker ${nodeId} is already running (pid ${existing.pid})`)
  }
  const java = findJava(env)
  const jars = resolveKafkaJars(cluster.version, env)
  const dir = nodeDir(env, nodeId)
  const dataDir = join(dir, 'data')
  const logFile = join(dir, 'broker.log')
  const propertiesFile = nodePropertiesFile(env, nodeId)
  const log4jFile = join(dir, 'log4j2.properties')
  const { keystoreFile, password } = devTlsFiles(env)
  const jvmBase = jvmArguments(jars.classpath, log4jFile)
  // Nodes 2 and 3 of a cluster with a controller quorum are voters: combined nodes, formatted
  // like node 1 (its quorum, SCRAM users and features: whichever voter is elected first writes
  // the cluster's initial metadata from its own format).
  const voter = cluster.quorum?.find((v) => v.nodeId === nodeId)
  const shareVersion = shareVersionFor(cluster.version)
  const formatExtras = voter
    ? [
        '--initial-controllers',
        initialControllers(cluster.quorum ?? []),
        ...scramFormatArguments(),
        ...(shareVersion === undefined ? [] : ['--feature', `share.version=${shareVersion}`]),
      ]
    : []
  for (let attempt = 1; ; attempt++) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(logFile, '')
    const [port, saslPort, tlsPort, saslSslPort] = (await reservePorts(4)) as [number, number, number, number]
    writePrivateFile(
      propertiesFile,
      serverProperties({
        port,
        saslPort,
        tls: { port: tlsPort, keystoreFile, password },
        // The first node's listeners and mode: a client of its SASL_SSL listener sees every broker.
        ...(cluster.saslSslPort === undefined ? {} : { saslSslPort }),
        ...(cluster.acls ? { acls: true } : {}),
        controllerPort: voter?.port ?? cluster.controllerPort,
        dataDir,
        node: { id: nodeId, role: voter ? 'broker,controller' : 'broker' },
        ...(cluster.quorum ? { quorum: cluster.quorum } : {}),
        version: cluster.version,
        // The cluster's size, not the count of nodes so far: every node has the same settings.
        ...(cluster.brokers === undefined ? {} : { brokers: cluster.brokers }),
      }),
    )
    writeFileSync(log4jFile, log4jProperties(logFile))
    await runJavaTool(
      java.executable,
      [
        ...jvmBase,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterIdOf(cluster.dataDir),
        '-c',
        propertiesFile,
        ...formatExtras,
      ],
      logFile,
      'Formatting the added broker (kafka.tools.StorageTool)',
    )
    const logOffset = statSync(logFile).size
    const broker = spawnBroker(java.executable, jvmBase, propertiesFile, logFile)
    const added: AddedBroker = {
      nodeId,
      pid: broker.pid,
      bootstrap: `127.0.0.1:${port}`,
      port,
      dataDir,
      logFile,
      propertiesFile,
    }
    writeAddedBroker(env, added)
    try {
      await awaitListed(
        [cluster.bootstrap],
        nodeId,
        timeoutMs,
        () =>
          broker.exit === undefined
            ? clusterGone()
            : `The broker ${nodeId} exited during start (${broker.exit})`,
        broker.pid,
        logFile,
      )
      return added
    } catch (error) {
      rmSync(join(nodesDir(env), `${nodeId}.json`), { force: true })
      const clash =
        error instanceof DevKafkaError &&
        error.code === 'BROKER_EXITED' &&
        isPortClash(logSince(logFile, logOffset))
      if (!clash || attempt >= 3) throw error
    }
  }
}

/**
 * Waits until the cluster's metadata lists node `nodeId`; kills it on timeout, or once `exited`
 * says why it cannot be (a sentence: "The broker 2 exited during start (code 1)").
 */
export async function awaitListed(
  bootstrap: string[],
  nodeId: number,
  timeoutMs: number,
  exited: () => string | undefined,
  pid: number,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const admin = new Admin({ clientId: 'multilane-add-broker', bootstrapBrokers: bootstrap })
  try {
    for (;;) {
      const exit = exited()
      if (exit !== undefined) {
        await kill(pid)
        throw new DevKafkaError('BROKER_EXITED', `${exit}. Last lines of ${logFile}:\n${logTail(logFile)}`)
      }
      const metadata = await admin.metadata({ topics: [], forceUpdate: true }).catch(() => undefined)
      if (metadata?.brokers.has(nodeId)) return
      if (Date.now() > deadline) {
        await kill(pid)
        throw new DevKafkaError(
          'BROKER_START_TIMEOUT',
          `The cluster did not list the broker ${nodeId} within ${timeoutMs} ms. Last lines of ${logFile}:\n${logTail(logFile)}`,
        )
      }
      await sleep(250)
    }
  } finally {
    await admin.close()
  }
}

export interface StopAddedBrokerOptions {
  /** How long a controlled shutdown (SIGTERM) may take before SIGKILL (default 20 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

/**
 * Stops an added broker with a controlled shutdown: the controller moves its partition
 * leaderships to other replicas first. Deletes its data. Unknown node ids are ignored.
 */
export async function stopAddedBroker(nodeId: number, options: StopAddedBrokerOptions = {}): Promise<void> {
  const env = options.env ?? process.env
  const release = await acquireDirLock(brokerFiles(env).dir, { purpose: `stop broker ${nodeId}` })
  try {
    const broker = addedBrokers(env).find((b) => b.nodeId === nodeId)
    if (broker) await stopAdded(env, broker, options.timeoutMs ?? 20_000)
  } finally {
    release()
  }
}

async function stopAdded(env: NodeJS.ProcessEnv, broker: AddedBroker, timeoutMs: number): Promise<boolean> {
  // The path this directory gives the node, not one read from the record: only this directory's nodes are signalled.
  const stopped = await stopKafkaNode(broker.pid, nodePropertiesFile(env, broker.nodeId), timeoutMs)
  rmSync(nodeDir(env, broker.nodeId), { recursive: true, force: true })
  rmSync(join(nodesDir(env), `${broker.nodeId}.json`), { force: true })
  return stopped
}

/**
 * Stops every added broker of the directory (its lock held by the caller); records of ones no
 * longer running are removed without signalling anything. Returns how many were stopped.
 */
export async function stopAddedBrokersLocked(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<number> {
  let stopped = 0
  for (const broker of addedBrokers(env)) if (await stopAdded(env, broker, timeoutMs)) stopped++
  return stopped
}

/** Whether an added broker's process still runs (and is that node, not a reused pid). */
export function addedBrokerRunning(broker: AddedBroker): boolean {
  return isKafkaNodeOf(broker.pid, broker.propertiesFile)
}

/** The cluster id the first node was formatted with (its data dir's meta.properties). */
function clusterIdOf(dataDir: string): string {
  const meta = readFileSync(join(dataDir, 'meta.properties'), 'utf8')
  const id = /^cluster\.id=(.+)$/m.exec(meta)?.[1]?.trim()
  if (!id)
    throw new DevKafkaError('CLUSTER_ID_MISSING', `no cluster.id in ${join(dataDir, 'meta.properties')}`)
  return id
}
