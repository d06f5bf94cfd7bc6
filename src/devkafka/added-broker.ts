// More brokers for the local cluster, for what one node cannot show: partition leadership
// moving between brokers (NOT_LEADER_OR_FOLLOWER, a leader's connection going away).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin } from '@platformatic/kafka'
import { log4jProperties, serverProperties } from './broker-config.ts'
import {
  freePort,
  isBrokerProcess,
  jvmArguments,
  logTail,
  runTool,
  spawnBroker,
  stopBrokerProcess,
} from './broker-process.ts'
import { localKafkaStatus } from './broker-state.ts'
import { DevKafkaError } from './errors.ts'
import { findJava } from './java-runtime.ts'
import { resolveKafkaJars } from './kafka-jars.ts'
import { brokerDir, devTlsFiles } from './paths.ts'

/** A broker-only node that joined the local cluster. */
export interface AddedBroker {
  nodeId: number
  pid: number
  bootstrap: string
  port: number
  dataDir: string
  logFile: string
}

export interface AddLocalBrokerOptions {
  /** Node id; default: one above the highest in the cluster (the first node is 1). */
  nodeId?: number
  /** How long to wait until the cluster lists the new broker (default 90 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

function nodesDir(env: NodeJS.ProcessEnv): string {
  return join(brokerDir(env), 'nodes')
}

/** Brokers added to the local cluster and still recorded (running or not). */
export function addedBrokers(env: NodeJS.ProcessEnv = process.env): AddedBroker[] {
  const dir = nodesDir(env)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as AddedBroker)
    .sort((a, b) => a.nodeId - b.nodeId)
}

/**
 * Starts a broker-only node that joins the running local cluster (`startLocalKafka`), with the
 * same client listeners and settings; resolves once the cluster's metadata lists it. Added
 * brokers are ephemeral: `stopLocalKafka` stops them and deletes their data.
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
  const existing = addedBrokers(env).find((b) => b.nodeId === nodeId)
  if (existing && isBrokerProcess(existing.pid)) {
    throw new DevKafkaError('INVALID_NODE_ID', `broker ${nodeId} is already running (pid ${existing.pid})`)
  }
  const cluster = await localKafkaStatus(env)
  if (!cluster) {
    throw new DevKafkaError(
      'NOT_RUNNING',
      'No local broker is running; start one with `multilane kafka start` first.',
    )
  }
  const java = findJava(env)
  const jars = resolveKafkaJars(cluster.version, env)
  const dir = join(nodesDir(env), `node-${nodeId}`)
  const dataDir = join(dir, 'data')
  const logFile = join(dir, 'broker.log')
  const propertiesFile = join(dir, 'server.properties')
  const log4jFile = join(dir, 'log4j2.properties')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(logFile, '')
  const [port, saslPort, tlsPort] = [await freePort(), await freePort(), await freePort()]
  const { keystoreFile, password } = devTlsFiles(env)
  writeFileSync(
    propertiesFile,
    serverProperties({
      port,
      saslPort,
      tls: { port: tlsPort, keystoreFile, password },
      controllerPort: cluster.controllerPort,
      dataDir,
      node: { id: nodeId, role: 'broker' },
    }),
  )
  writeFileSync(log4jFile, log4jProperties(logFile))
  const jvmBase = jvmArguments(jars.classpath, log4jFile)
  await runTool(
    java.executable,
    [
      ...jvmBase,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterIdOf(cluster.dataDir),
      '-c',
      propertiesFile,
    ],
    logFile,
    'Formatting the added broker (kafka.tools.StorageTool)',
  )
  const broker = spawnBroker(java.executable, jvmBase, propertiesFile, logFile)
  const added: AddedBroker = {
    nodeId,
    pid: broker.pid,
    bootstrap: `127.0.0.1:${port}`,
    port,
    dataDir,
    logFile,
  }
  writeFileSync(join(nodesDir(env), `${nodeId}.json`), `${JSON.stringify(added, null, 2)}\n`)

  const timeoutMs = options.timeoutMs ?? 90_000
  const deadline = Date.now() + timeoutMs
  const admin = new Admin({ clientId: 'multilane-add-broker', bootstrapBrokers: [cluster.bootstrap] })
  try {
    for (;;) {
      if (broker.exitCode !== undefined) {
        throw new DevKafkaError(
          'BROKER_EXITED',
          `The added broker ${nodeId} exited during start (code ${broker.exitCode}). Last lines of ${logFile}:\n${logTail(logFile)}`,
        )
      }
      const metadata = await admin.metadata({ topics: [], forceUpdate: true }).catch(() => undefined)
      if (metadata?.brokers.has(nodeId)) return added
      if (Date.now() > deadline) {
        process.kill(broker.pid, 'SIGKILL')
        throw new DevKafkaError(
          'BROKER_START_TIMEOUT',
          `The cluster did not list the added broker ${nodeId} within ${timeoutMs} ms. Last lines of ${logFile}:\n${logTail(logFile)}`,
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
  const broker = addedBrokers(env).find((b) => b.nodeId === nodeId)
  if (!broker) return
  await stopBrokerProcess(broker.pid, options.timeoutMs ?? 20_000)
  rmSync(join(nodesDir(env), `node-${nodeId}`), { recursive: true, force: true })
  rmSync(join(nodesDir(env), `${nodeId}.json`), { force: true })
}

/** Whether an added broker's process still runs. */
export function addedBrokerRunning(broker: AddedBroker): boolean {
  return isBrokerProcess(broker.pid)
}

/** The cluster id the first node was formatted with (its data dir's meta.properties). */
function clusterIdOf(dataDir: string): string {
  const meta = readFileSync(join(dataDir, 'meta.properties'), 'utf8')
  const id = /^cluster\.id=(.+)$/m.exec(meta)?.[1]?.trim()
  if (!id)
    throw new DevKafkaError('CLUSTER_ID_MISSING', `no cluster.id in ${join(dataDir, 'meta.properties')}`)
  return id
}
