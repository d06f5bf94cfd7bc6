// One run of a chaos scenario, the part both scenarios share: a work directory for the logs, the
// cluster (started, or a running one attached), a topic of the run's own, the steady producer,
// `multilane run` of the scenario's app, and the teardown that leaves nothing running.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import type { Admin } from '@platformatic/kafka'
import { ChaosCluster } from './cluster.ts'
import { SteadyProducer } from './producer.ts'
import { Swarm } from './swarm.ts'

/** What every scenario is given besides its faults. */
export interface RunOptions {
  /** Records per second. */
  rate: number
  keys: number
  partitions: number
  seed: number
  /** How long to wait for the drain once the faults ended. */
  drainTimeoutMs: number
  /** A running local cluster's broker directory to use instead of starting one (development). */
  clusterDir?: string
  /** A cluster the caller started and stops (the short forms share one): used as it is. */
  cluster?: ChaosCluster
  log: (message: string) => void
}

export class ChaosRun {
  readonly began = Date.now()
  readonly workDir: string
  readonly logDir: string
  /** The run's topic; also the group's name (scenario A: the origin of the segment groups). */
  readonly topic: string
  readonly group: string
  readonly cluster: ChaosCluster
  readonly admin: Admin
  readonly #options: RunOptions
  producer: SteadyProducer | undefined
  swarm: Swarm | undefined

  private constructor(options: RunOptions, workDir: string, name: string, cluster: ChaosCluster) {
    this.#options = options
    this.workDir = workDir
    this.logDir = join(workDir, 'logs')
    this.topic = name
    this.group = name
    this.cluster = cluster
    this.admin = cluster.admin('chaos-harness')
  }

  /** A work directory and the cluster; the caller closes the run whatever happens next. */
  static async open(scenario: 'a' | 'b' | 'c', options: RunOptions): Promise<ChaosRun> {
    const { log } = options
    const workDir = mkdtempSync(join(tmpdir(), 'multilane-chaos-'))
    mkdirSync(join(workDir, 'logs'))
    log(`work directory ${workDir} (worker logs, the swarm's output)`)
    if (!options.cluster)
      log(options.clusterDir ? `using the cluster in ${options.clusterDir}` : 'starting a 3-broker cluster…')
    const cluster =
      options.cluster ??
      (options.clusterDir
        ? await ChaosCluster.attach(options.clusterDir, log)
        : await ChaosCluster.start(3, log))
    return new ChaosRun(
      options,
      workDir,
      `chaos-${scenario}-${Date.now().toString(36)}-${options.seed}`,
      cluster,
    )
  }

  /** The run's topic: replication factor 3, min.insync.replicas 2. */
  async createTopic(): Promise<void> {
    this.#options.log(
      `cluster ${this.cluster.bootstrap.join(',')}; creating ${this.topic} (${this.#options.partitions} partitions, RF 3, min.insync.replicas 2)`,
    )
    await this.cluster.createTopic(this.topic, this.#options.partitions, 3, 2)
  }

  startProducer(): SteadyProducer {
    this.producer = new SteadyProducer({
      bootstrap: this.cluster.bootstrap,
      topic: this.topic,
      rate: this.#options.rate,
      keys: this.#options.keys,
      log: this.#options.log,
    })
    this.producer.start()
    return this.producer
  }

  /** `multilane run --processes <processes> <appModule>`, configured through CHAOS_* variables. */
  startSwarm(appModule: string, processes: number, extraEnv: NodeJS.ProcessEnv = {}): Swarm {
    const env: NodeJS.ProcessEnv = {
      ...this.cluster.env,
      ...extraEnv,
      CHAOS_TOPIC: this.topic,
      CHAOS_GROUP: this.group,
      CHAOS_LOG_DIR: this.logDir,
      MULTILANE_LOG_LEVEL: 'warn',
    }
    this.swarm = new Swarm(appModule, processes, env, join(this.workDir, 'swarm.log'))
    this.#options.log(
      `multilane run --processes ${processes} ${relative(resolve(import.meta.dirname, '..'), appModule)} (pid ${this.swarm.pid})`,
    )
    return this.swarm
  }

  /** The text of every worker log. */
  workerLogs(): string[] {
    return readdirSync(this.logDir)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => readFileSync(join(this.logDir, f), 'utf8'))
  }

  /** Stops what still runs; the cluster too unless it was attached. The work directory stays. */
  async close(): Promise<void> {
    await this.producer?.stop(5_000).catch(() => {})
    await this.swarm?.abort().catch(() => {})
    await this.admin.close().catch(() => {})
    if (!this.#options.clusterDir && !this.#options.cluster) await this.cluster.stop()
  }
}
