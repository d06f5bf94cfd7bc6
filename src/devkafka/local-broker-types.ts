/**
 * The options and results of starting and stopping the local broker: a leaf module, so the
 * start sequence (broker-launch.ts) and the entry points (local-broker.ts) share them without
 * importing each other.
 */
import type { LocalKafkaState } from './broker-state.ts'

export interface StartLocalKafkaOptions {
  /** Broker port; default 9092 when free, else any free port. A given port must be free. */
  port?: number
  /**
   * The Apache Kafka release to start (4.x, or 3.9.x for classic groups only); default
   * `MULTILANE_KAFKA_VERSION`, else the pinned one. A broker of another release already running
   * in the directory is refused (not reused) when a version is given here.
   */
  version?: string
  /**
   * Brokers in the cluster, 1 to 9 (default 1). With N > 1, node 1 (broker and controller) and
   * brokers 2..N start, internal topics get replication factor min(N, 3) (min ISR 1), and the
   * start resolves once groups work on the whole cluster. A running cluster is reused when it
   * has at least N brokers; one started smaller is refused (its internal topics have fewer
   * replicas): stop it first.
   */
  brokers?: number
  /**
   * ACL mode (`kafka start --acls`): the StandardAuthorizer, nothing allowed without an ACL but
   * for the super users `User:multilane` (the dev SASL user) and `User:ANONYMOUS` (the plain,
   * TLS and controller listeners). A running broker without ACL mode is refused, not reused; a
   * restart keeps the mode the kept data was started with.
   */
  acls?: boolean
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

export interface StopLocalKafkaOptions {
  /** Keep the data directory (for inspection, or `start --restart`); a plain start formats fresh data. */
  keep?: boolean
  /** How long to wait after SIGTERM before SIGKILL (default 20 s). */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** Progress lines for a CLI (waiting for a start in progress). */
  onProgress?: (message: string) => void
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
