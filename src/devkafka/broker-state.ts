// Where the local cluster is described: `state.json` (the broker that runs or is starting) and
// `kept.json` (what `stop --keep` left for `start --restart`) in the broker directory.
import { readFileSync } from 'node:fs'
import type { QuorumVoter } from './broker-config.ts'
import { writeFileAtomic } from './files.ts'
import { brokerFiles } from './paths.ts'
import { isKafkaNodeOf } from './process-identity.ts'

/** What `multilane kafka status` reports and what the test harness connects to. */
export interface LocalKafkaState {
  /**
   * `starting` from the moment the JVM is spawned (so an interrupted start can be found and
   * recovered), `running` once it answered and a share group could be joined.
   */
  phase: 'starting' | 'running'
  pid: number
  bootstrap: string
  port: number
  /** The SASL listener (`DEV_SASL_USER`; PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  saslBootstrap: string
  saslPort: number
  /** The TLS listener; trust `tlsCaFile` (PEM) to connect. */
  tlsBootstrap: string
  tlsPort: number
  tlsCaFile: string
  /**
   * The SASL listener over TLS (`DEV_SASL_USER`, the mechanisms of `saslBootstrap`; trust
   * `tlsCaFile`). Absent in records of earlier launchers.
   */
  saslSslBootstrap?: string
  saslSslPort?: number
  /**
   * ACL mode (`kafka start --acls`): the StandardAuthorizer with `allow.everyone.if.no.acl.found`
   * false; super users `User:multilane` and `User:ANONYMOUS` (the plain, TLS and controller
   * listeners). Absent: no authorizer, everything allowed.
   */
  acls?: boolean
  controllerPort: number
  version: string
  /** The broker directory (`MULTILANE_BROKER_DIR`, or `~/.cache/multilane/broker`). */
  dir: string
  dataDir: string
  logFile: string
  startedAt: string
  /** True when the broker runs on data kept by `stop --keep` (`start --restart`). */
  restarted: boolean
  /**
   * How many brokers the cluster was started with (`--brokers`; absent: 1). Brokers added later
   * get the same internal-topic settings.
   */
  brokers?: number
  /**
   * Set when `kafka broker stop 1` stopped this node on purpose (its data kept for `kafka broker
   * start 1`); `kafka stop` then still deletes the data.
   */
  stoppedOnPurpose?: boolean
  /**
   * A cluster of ≥ 3 brokers: nodes 1-3 are its KRaft controller quorum (each combined
   * broker+controller), so any one node can die. Absent: node 1 is the only controller.
   */
  quorum?: QuorumVoter[]
  /** Finalized feature levels (`metadata.version`, `share.version`, …), known once running. */
  features?: Record<string, number>
}

/** A node's listener ports other than the plain one (each must accept connections once it runs). */
export function otherListenerPorts(state: LocalKafkaState): number[] {
  return [
    state.saslPort,
    state.tlsPort,
    ...(state.saslSslPort === undefined ? [] : [state.saslSslPort]),
    state.controllerPort,
  ]
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

/** The recorded broker, whether or not it still runs. */
export function readState(env: NodeJS.ProcessEnv = process.env): LocalKafkaState | undefined {
  const files = brokerFiles(env)
  const state = readJson<Partial<LocalKafkaState>>(files.stateFile)
  if (state?.pid === undefined) return undefined
  // Files written by earlier launchers lack these.
  return { phase: 'running', restarted: false, ...state, dir: files.dir } as LocalKafkaState
}

export function writeState(env: NodeJS.ProcessEnv, state: LocalKafkaState): void {
  writeFileAtomic(brokerFiles(env).stateFile, `${JSON.stringify(state, null, 2)}\n`)
}

/** What `stop --keep` kept, or undefined. */
export function readKept(env: NodeJS.ProcessEnv = process.env): LocalKafkaState | undefined {
  const kept = readJson<LocalKafkaState>(brokerFiles(env).keptFile)
  return kept?.port === undefined ? undefined : kept
}

export function writeKept(env: NodeJS.ProcessEnv, state: LocalKafkaState): void {
  writeFileAtomic(brokerFiles(env).keptFile, `${JSON.stringify(state, null, 2)}\n`)
}

/** True when the recorded broker's process runs and is this directory's node (not a reused pid). */
export function isRecordedBrokerAlive(state: LocalKafkaState, env: NodeJS.ProcessEnv = process.env): boolean {
  return isKafkaNodeOf(state.pid, brokerFiles(env).propertiesFile)
}

/**
 * The local broker, or undefined when none runs in this directory (a record whose process is
 * gone, or is not this directory's broker, counts as none). Its `phase` is `starting` while an
 * interrupted start's broker is still coming up. Reads only; start and stop clean up stale
 * records.
 */
export async function localKafkaStatus(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalKafkaState | undefined> {
  const state = readState(env)
  return state && isRecordedBrokerAlive(state, env) ? state : undefined
}
