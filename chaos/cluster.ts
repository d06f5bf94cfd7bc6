// The harness's own three-broker Apache Kafka cluster, in a private directory under the system
// temp dir, driven through the `multilane kafka` command (start --brokers 3, broker stop|start,
// stop) exactly as a user would. The directory follows the test suite's convention for private
// brokers (`multilane-run-broker-*` with the owner's pid in owner.json), so a cluster whose
// harness was killed is stopped by the next harness or test run (sweepAbandonedBrokers).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin } from '@platformatic/kafka'
import { privateBrokerEnv, removeDir, spawnMultilane } from '../test/support/launcher.ts'
import { sweepAbandonedBrokers } from '../test/support/private-broker.ts'

export interface ClusterNode {
  nodeId: number
  pid: number
  bootstrap: string
  running: boolean
}

export interface PartitionState {
  partition: number
  leader: number
  replicas: number[]
  isr: number[]
}

export class ChaosCluster {
  /** Environment for every process that uses this cluster (MULTILANE_BROKER_DIR, KAFKA_BOOTSTRAP_SERVERS). */
  readonly env: NodeJS.ProcessEnv
  readonly dir: string
  readonly bootstrap: string[]
  readonly #log: (message: string) => void

  private constructor(dir: string, env: NodeJS.ProcessEnv, bootstrap: string[], log: (m: string) => void) {
    this.dir = dir
    this.env = env
    this.bootstrap = bootstrap
    this.#log = log
  }

  /** Starts a cluster of `brokers` nodes; on failure nothing is left running. */
  static async start(brokers: number, log: (message: string) => void): Promise<ChaosCluster> {
    for (const swept of await sweepAbandonedBrokers()) log(`stopped the broker of an ended run in ${swept}`)
    const { dir, env } = privateBrokerEnv('multilane-run-broker')
    writeFileSync(
      join(dir, 'owner.json'),
      `${JSON.stringify({ pid: process.pid, since: new Date().toISOString() })}\n`,
    )
    const started = await spawnMultilane(['kafka', 'start', '--brokers', String(brokers), '--json'], env).done
    if (started.code !== 0) {
      await spawnMultilane(['kafka', 'stop'], env).done
      removeDir(dir)
      throw new Error(
        `multilane kafka start --brokers ${brokers} failed (${started.code}):\n${started.stderr}`,
      )
    }
    const state = JSON.parse(started.stdout) as {
      bootstrap: string
      addedBrokers: Array<{ bootstrap: string }>
    }
    const bootstrap = [state.bootstrap, ...state.addedBrokers.map((b) => b.bootstrap)]
    return new ChaosCluster(dir, { ...env, KAFKA_BOOTSTRAP_SERVERS: bootstrap.join(',') }, bootstrap, log)
  }

  /** A cluster already running in `brokerDir` (not stopped by `stop`). */
  static async attach(brokerDir: string, log: (message: string) => void): Promise<ChaosCluster> {
    const { KAFKA_BOOTSTRAP_SERVERS: _, ...inherited } = process.env
    const env: NodeJS.ProcessEnv = { ...inherited, MULTILANE_BROKER_DIR: brokerDir }
    const listed = await spawnMultilane(['kafka', 'broker', 'list', '--json'], env).done
    if (listed.code !== 0)
      throw new Error(`no local cluster in ${brokerDir}: ${listed.stderr}${listed.stdout}`)
    const bootstrap = (JSON.parse(listed.stdout) as ClusterNode[]).map((n) => n.bootstrap)
    const cluster = new ChaosCluster(
      brokerDir,
      { ...env, KAFKA_BOOTSTRAP_SERVERS: bootstrap.join(',') },
      bootstrap,
      log,
    )
    cluster.#attached = true
    return cluster
  }

  #attached = false

  async #multilane(args: string[]): Promise<string> {
    const result = await spawnMultilane(args, this.env).done
    if (result.code !== 0)
      throw new Error(
        `multilane ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`,
      )
    return result.stdout
  }

  async nodes(): Promise<ClusterNode[]> {
    return JSON.parse(await this.#multilane(['kafka', 'broker', 'list', '--json'])) as ClusterNode[]
  }

  /** A controlled shutdown of `node`, or (`kill`) a SIGKILL; its data is kept. */
  async stopNode(node: number, kill: boolean): Promise<void> {
    await this.#multilane(['kafka', 'broker', 'stop', String(node), ...(kill ? ['--kill'] : [])])
  }

  /**
   * Starts a stopped node again on its data; resolves once the cluster lists it. `kafka broker
   * start` waits 180 s for that; on a machine loaded enough to take longer the node keeps
   * starting, and this waits on for the cluster to list it (up to `timeoutMs` in all).
   */
  async startNode(node: number, timeoutMs = 900_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    try {
      await this.#multilane(['kafka', 'broker', 'start', String(node)])
      return
    } catch (error) {
      const running = (await this.nodes().catch(() => [])).some((n) => n.nodeId === node && n.running)
      if (!running) throw error
      this.#log(
        `kafka broker start ${node} gave up waiting, the node still starts: waiting for the cluster to list it`,
      )
    }
    for (;;) {
      const admin = this.admin('chaos-metadata')
      try {
        const metadata = await admin.metadata({ topics: [], forceUpdate: true })
        if (metadata.brokers.has(node)) return
      } catch {
        // the cluster still settling: ask again
      } finally {
        await admin.close().catch(() => {})
      }
      if (Date.now() > deadline)
        throw new Error(`broker ${node} was not listed by the cluster within ${timeoutMs} ms`)
      await sleep(2_000)
    }
  }

  async createTopic(topic: string, partitions: number, replicas: number, minIsr: number): Promise<void> {
    await this.#multilane([
      'topics',
      'create',
      topic,
      '--partitions',
      String(partitions),
      '--replication-factor',
      String(replicas),
      '--config',
      `min.insync.replicas=${minIsr}`,
      '--bootstrap',
      this.bootstrap.join(','),
    ])
  }

  admin(clientId: string): Admin {
    return new Admin({ clientId, bootstrapBrokers: this.bootstrap, retries: 3, timeout: 10_000 })
  }

  /** Leaders, replicas and in-sync replicas of the topic's partitions. */
  async partitions(topic: string): Promise<PartitionState[]> {
    const admin = this.admin('chaos-metadata')
    try {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
      return metadata.topics
        .get(topic)!
        .partitions.map((p, partition) => ({ partition, leader: p.leader, replicas: p.replicas, isr: p.isr }))
    } finally {
      await admin.close().catch(() => {})
    }
  }

  /** Stops every node (stopped ones' data deleted too) and removes the directory. */
  async stop(): Promise<void> {
    if (this.#attached) return
    const stopped = await spawnMultilane(['kafka', 'stop'], this.env).done
    if (stopped.code !== 0) this.#log(`multilane kafka stop failed (${stopped.code}): ${stopped.stderr}`)
    removeDir(this.dir)
  }
}
