// Waiting for a starting broker: it answers ApiVersions and a share group can be joined (a 3.9
// node: its group coordinator answers). A
// broker that fails or times out is killed here (it never outlives a failed start).
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  type BrokerFacts,
  groupCoordinatorUnavailableReason,
  probeBroker,
  shareGroupsUnavailableReason,
} from './broker-probe.ts'
import { logTail, signal, waitForExit } from './broker-process.ts'
import { DevKafkaError } from './errors.ts'
import { hasModernGroups } from './kafka-version.ts'
import { accepts } from './ports.ts'

export interface ReadyWait {
  pid: number
  /** The plain client listener (probed with ApiVersions and a share-group join). */
  port: number
  /** The node's other listeners: each must accept connections too (a broker that failed to bind one is exiting). */
  otherPorts: number[]
  logFile: string
  /**
   * Where this start's part of the log begins. When given, the node is ready only once that part
   * says the server started: another process that holds the port (the broker then fails to bind
   * it and exits) would otherwise answer the probes in its place.
   */
  logOffset?: number
  timeoutMs: number
  /** How the process ended, or undefined while it runs. */
  exited: () => string | undefined
  /** Which node, for messages ("The Kafka broker", "The added broker 2"). */
  label?: string
  /**
   * The node's Kafka release: a 4.x node is ready once a share group can be joined, a 3.9 node
   * (classic groups only) once its group coordinator answers.
   */
  version: string
  /**
   * False: ready once ApiVersions and every listener answer, without the group probe. The first
   * node of a cluster of N > 1 brokers: its internal topics need the other brokers first (the
   * probe's FindCoordinator creates `__consumer_offsets` with replication factor min(N, 3)), so
   * `awaitGroupsReady` runs once they all joined.
   */
  probeGroups?: boolean
  /** The probes (tests give fakes); by default the real ones of broker-probe.ts. */
  probes?: ReadyProbes
}

/** How a node is asked whether it is ready. */
export interface ReadyProbes {
  broker: (address: { host: string; port: number }, timeoutMs: number) => Promise<BrokerFacts>
  shareGroups: (address: { host: string; port: number }, facts: BrokerFacts) => Promise<string | undefined>
  groupCoordinator: (address: { host: string; port: number }) => Promise<string | undefined>
  listening: (port: number) => Promise<boolean>
}

const REAL_PROBES: ReadyProbes = {
  broker: probeBroker,
  shareGroups: shareGroupsUnavailableReason,
  groupCoordinator: groupCoordinatorUnavailableReason,
  listening: accepts,
}

/** Returns the finalized feature levels once the broker is ready; throws (after killing it) otherwise. */
/** Logged once every listener is bound and the node serves (KafkaRaftServer, 3.9 and 4.x). */
const SERVER_STARTED = 'Kafka Server started'

export async function awaitBrokerReady(wait: ReadyWait): Promise<Record<string, number>> {
  const label = wait.label ?? 'The Kafka broker'
  const deadline = Date.now() + wait.timeoutMs
  const address = { host: '127.0.0.1', port: wait.port }
  const probes = wait.probes ?? REAL_PROBES
  // Without this start's part of the log (waiting for the broker of an interrupted start) a node
  // that answers may still be starting: it may not offer share groups *yet*, so its answer is
  // final only at the deadline.
  let notYet: string | undefined
  for (; ; await sleep(250)) {
    const exit = wait.exited()
    if (exit !== undefined) {
      throw new DevKafkaError(
        'BROKER_EXITED',
        `${label} exited during start (${exit}). Last lines of ${wait.logFile}:\n${logTail(wait.logFile)}`,
      )
    }
    if (Date.now() > deadline) {
      await kill(wait.pid)
      if (notYet !== undefined) throw groupsUnavailable(hasModernGroups(wait.version), notYet)
      throw new DevKafkaError(
        'BROKER_START_TIMEOUT',
        `${label} did not answer within ${wait.timeoutMs} ms. Last lines of ${wait.logFile}:\n${logTail(wait.logFile)}`,
      )
    }
    if (wait.logOffset !== undefined && !logSince(wait.logFile, wait.logOffset).includes(SERVER_STARTED))
      continue
    const facts = await probes.broker(address, 1000).catch(() => undefined)
    if (!facts) continue
    // A broker that answered and then exits (it could not bind a later listener) fails the
    // checks below: not ready yet, and its exit is reported on the next turn.
    const listening = await Promise.all(wait.otherPorts.map((p) => probes.listening(p)))
    if (!listening.every(Boolean)) continue
    if (wait.probeGroups === false) return facts.features
    const modern = hasModernGroups(wait.version)
    const reason = await (modern
      ? probes.shareGroups(address, facts)
      : probes.groupCoordinator(address)
    ).catch(() => null)
    if (reason === null || wait.exited() !== undefined) continue
    if (reason) {
      if (wait.logOffset === undefined) {
        notYet = reason
        continue
      }
      await kill(wait.pid)
      throw groupsUnavailable(modern, reason)
    }
    return facts.features
  }
}

function groupsUnavailable(modern: boolean, reason: string): DevKafkaError {
  return modern
    ? new DevKafkaError(
        'SHARE_GROUPS_UNAVAILABLE',
        `The broker started but share groups cannot be used: ${reason}.`,
      )
    : new DevKafkaError(
        'BROKER_START_TIMEOUT',
        `The broker started but consumer groups cannot be used: ${reason}.`,
      )
}

/**
 * Waits until groups can be used on the cluster behind `port` (a 4.x cluster: a share group can
 * be joined; 3.9: its group coordinator answers): the cluster-level readiness of a cluster whose
 * brokers have all joined. Returns the finalized feature levels; throws after `timeoutMs`.
 */
export async function awaitGroupsReady(
  port: number,
  version: string,
  timeoutMs: number,
  /** Why waiting is pointless (node 1 exited), else undefined. */
  gone: () => string | undefined = () => undefined,
): Promise<Record<string, number>> {
  const deadline = Date.now() + timeoutMs
  const address = { host: '127.0.0.1', port }
  const modern = hasModernGroups(version)
  let last = 'the broker did not answer'
  for (; ; await sleep(250)) {
    const why = gone()
    if (why !== undefined) throw new DevKafkaError('BROKER_EXITED', why)
    const facts = await probeBroker(address, 2000).catch(() => undefined)
    if (facts) {
      const reason = await (modern
        ? shareGroupsUnavailableReason(address, facts)
        : groupCoordinatorUnavailableReason(address)
      ).catch((error: unknown) => `${(error as Error).message}`)
      if (reason === undefined) return facts.features
      last = reason
    }
    if (Date.now() > deadline) {
      throw new DevKafkaError(
        modern ? 'SHARE_GROUPS_UNAVAILABLE' : 'BROKER_START_TIMEOUT',
        `The cluster's brokers all run, but ${modern ? 'share' : 'consumer'} groups could not be used within ${timeoutMs} ms: ${last}.`,
      )
    }
  }
}

/** SIGKILL, and wait until the process has let go of its ports and files. */
export async function kill(pid: number): Promise<void> {
  signal(pid, 'SIGKILL')
  await waitForExit(pid, 10_000)
}

/** The part of a log written after byte `offset` (what one start attempt wrote). */
export function logSince(logFile: string, offset: number): string {
  try {
    return readFileSync(logFile).subarray(offset).toString('utf8')
  } catch {
    return ''
  }
}
