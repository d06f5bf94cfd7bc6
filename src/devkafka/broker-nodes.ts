// One node of the local cluster at a time, for chaos tests: stop it (a controlled shutdown, or a
// SIGKILL) keeping its data, and start it again on that data with the same id and ports.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  type AddedBroker,
  addedBrokers,
  awaitListed,
  nodeDir,
  nodePropertiesFile,
  writeAddedBroker,
} from './added-broker.ts'
import { jvmArguments, signal, spawnBroker, stopKafkaNode, waitForExit } from './broker-process.ts'
import { awaitBrokerReady } from './broker-ready.ts'
import { type LocalKafkaState, otherListenerPorts, readState, writeState } from './broker-state.ts'
import { acquireDirLock } from './dir-lock.ts'
import { DevKafkaError } from './errors.ts'
import { findJava } from './java-runtime.ts'
import { resolveKafkaJars } from './kafka-jars.ts'
import { brokerFiles } from './paths.ts'
import { isKafkaNodeOf } from './process-identity.ts'

/** One node of the local cluster, running or stopped. */
export interface LocalBrokerNode {
  nodeId: number
  /** Node 1 is broker and KRaft controller, so are nodes 2 and 3 of a cluster with a quorum (≥ 3 brokers). */
  role: 'broker+controller' | 'broker'
  /** The last pid it ran with (a stopped node's process is gone). */
  pid: number
  bootstrap: string
  port: number
  running: boolean
  dataDir: string
  logFile: string
}

/**
 * The nodes of the local cluster of this directory (node 1 first), or undefined when there is no
 * cluster: no record of node 1, or a record of one that is gone with no node stopped on purpose
 * and none still running.
 */
export function localClusterNodes(env: NodeJS.ProcessEnv = process.env): LocalBrokerNode[] | undefined {
  const files = brokerFiles(env)
  const state = readState(env)
  if (!state) return undefined
  const first: LocalBrokerNode = {
    nodeId: 1,
    role: 'broker+controller',
    pid: state.pid,
    bootstrap: state.bootstrap,
    port: state.port,
    running: isKafkaNodeOf(state.pid, files.propertiesFile),
    dataDir: state.dataDir,
    logFile: state.logFile,
  }
  const added = addedBrokers(env).map(
    (b): LocalBrokerNode => ({
      nodeId: b.nodeId,
      role: state.quorum?.some((v) => v.nodeId === b.nodeId) ? 'broker+controller' : 'broker',
      pid: b.pid,
      bootstrap: b.bootstrap,
      port: b.port,
      running: isKafkaNodeOf(b.pid, nodePropertiesFile(env, b.nodeId)),
      dataDir: b.dataDir,
      logFile: b.logFile,
    }),
  )
  if (!first.running && !state.stoppedOnPurpose && !added.some((b) => b.running)) return undefined
  return [first, ...added]
}

export interface StopLocalBrokerNodeOptions {
  /** SIGKILL at once (a crash) instead of a controlled shutdown (SIGTERM). */
  kill?: boolean
  /** How long a controlled shutdown may take before SIGKILL (default 20 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

/** The node, or a clear error naming the cluster's nodes (or saying there is no cluster). */
function findNode(env: NodeJS.ProcessEnv, nodeId: number, action: string): LocalBrokerNode {
  const nodes = localClusterNodes(env)
  if (!nodes) {
    throw new DevKafkaError(
      'NOT_RUNNING',
      `No local cluster runs in ${brokerFiles(env).dir} to ${action} node ${nodeId} in; ` +
        'start one with `multilane kafka start --brokers 3`.',
    )
  }
  const node = nodes.find((n) => n.nodeId === nodeId)
  if (!node) {
    throw new DevKafkaError(
      'INVALID_NODE_ID',
      `node ${nodeId} is not a node of the local cluster in ${brokerFiles(env).dir}; its nodes are ${nodes.map((n) => n.nodeId).join(', ')}`,
    )
  }
  return node
}

/**
 * Stops one node of the local cluster and keeps its data, its id and its ports for
 * `startLocalBrokerNode`: a controlled shutdown (SIGTERM: its partition leaderships move away
 * first; SIGKILL after `timeoutMs`), or with `kill` a SIGKILL. Resolves once the process has
 * exited. In a cluster of two, node 1 is the only KRaft controller: until it is back, no leader
 * moves and no broker can join; from three brokers on, nodes 1-3 are a controller quorum that
 * goes on without any one of them.
 */
export async function stopLocalBrokerNode(
  nodeId: number,
  options: StopLocalBrokerNodeOptions = {},
): Promise<LocalBrokerNode> {
  const env = options.env ?? process.env
  const release = await acquireDirLock(brokerFiles(env).dir, { purpose: `stop node ${nodeId}` })
  try {
    const node = findNode(env, nodeId, 'stop')
    if (!node.running) {
      throw new DevKafkaError(
        'NODE_STOPPED',
        `node ${nodeId} of the local cluster is not running (pid ${node.pid} has exited); \`multilane kafka broker start ${nodeId}\` starts it`,
      )
    }
    const files = brokerFiles(env)
    const propertiesFile = nodeId === 1 ? files.propertiesFile : nodePropertiesFile(env, nodeId)
    if (nodeId === 1) {
      // Recorded before the signal: a launcher killed meanwhile still leaves the data marked as kept.
      writeState(env, { ...(readState(env) as LocalKafkaState), stoppedOnPurpose: true })
    }
    if (options.kill) {
      // Proven to be this node just above (findNode), and it has not exited since: signal it.
      if (isKafkaNodeOf(node.pid, propertiesFile)) signal(node.pid, 'SIGKILL')
      if (!(await waitForExit(node.pid, 10_000))) {
        throw new DevKafkaError(
          'STOP_FAILED',
          `node ${nodeId} (pid ${node.pid}) survived SIGKILL; check it with ps.`,
        )
      }
    } else await stopKafkaNode(node.pid, propertiesFile, options.timeoutMs ?? 20_000)
    return { ...node, running: false }
  } finally {
    release()
  }
}

export interface StartLocalBrokerNodeOptions {
  /** How long to wait until the node answers and the cluster lists it (default 90 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

/**
 * Starts a stopped node of the local cluster again on its kept data, with the same id, ports and
 * settings; resolves once it answers and the cluster's metadata lists it. A running node, an
 * unknown id or no cluster are clear errors.
 */
export async function startLocalBrokerNode(
  nodeId: number,
  options: StartLocalBrokerNodeOptions = {},
): Promise<LocalBrokerNode> {
  const env = options.env ?? process.env
  const timeoutMs = options.timeoutMs ?? 90_000
  const release = await acquireDirLock(brokerFiles(env).dir, { purpose: `start node ${nodeId}` })
  try {
    const node = findNode(env, nodeId, 'start')
    if (node.running) {
      throw new DevKafkaError(
        'NODE_ALREADY_RUNNING',
        `node ${nodeId} of the local cluster is already running (pid ${node.pid}, ${node.bootstrap})`,
      )
    }
    const files = brokerFiles(env)
    if (!existsSync(join(node.dataDir, 'meta.properties'))) {
      throw new DevKafkaError(
        'NOTHING_TO_RESTART',
        `node ${nodeId} has no data in ${node.dataDir} to start on; \`multilane kafka stop\` then \`multilane kafka start --brokers N\` starts a fresh cluster`,
      )
    }
    const state = readState(env) as LocalKafkaState
    const java = findJava(env)
    const jars = resolveKafkaJars(state.version, env)
    const propertiesFile = nodeId === 1 ? files.propertiesFile : nodePropertiesFile(env, nodeId)
    const log4jFile = nodeId === 1 ? files.log4jFile : join(nodeDir(env, nodeId), 'log4j2.properties')
    const broker = spawnBroker(
      java.executable,
      jvmArguments(jars.classpath, log4jFile),
      propertiesFile,
      node.logFile,
    )
    // Recorded at once, so status and stop find it even if this call is interrupted.
    if (nodeId === 1) {
      const { stoppedOnPurpose: _, ...rest } = state
      writeState(env, { ...rest, pid: broker.pid, startedAt: new Date().toISOString() })
    } else {
      const record = addedBrokers(env).find((b) => b.nodeId === nodeId) as AddedBroker
      writeAddedBroker(env, { ...record, pid: broker.pid })
    }
    await awaitBrokerReady({
      pid: broker.pid,
      port: node.port,
      otherPorts: nodeId === 1 ? otherListenerPorts(state) : [],
      logFile: node.logFile,
      timeoutMs,
      version: state.version,
      exited: () => broker.exit,
      label: `Node ${nodeId}`,
      probeGroups: false,
    })
    const bootstraps = [state.bootstrap, ...addedBrokers(env).map((b) => b.bootstrap)]
    await awaitListed(
      bootstraps,
      nodeId,
      timeoutMs,
      () => (broker.exit === undefined ? undefined : `Node ${nodeId} exited during start (${broker.exit})`),
      broker.pid,
      node.logFile,
    )
    return { ...node, pid: broker.pid, running: true }
  } finally {
    release()
  }
}
