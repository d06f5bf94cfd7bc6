// Waiting for a starting broker: it answers ApiVersions and a share group can be joined (a 3.9
// node: its group coordinator answers). A
// broker that fails or times out is killed here (it never outlives a failed start).
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import {
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
}

/** Returns the finalized feature levels once the broker is ready; throws (after killing it) otherwise. */
/** Logged once every listener is bound and the node serves (KafkaRaftServer, 3.9 and 4.x). */
const SERVER_STARTED = 'Kafka Server started'

export async function awaitBrokerReady(wait: ReadyWait): Promise<Record<string, number>> {
  const label = wait.label ?? 'The Kafka broker'
  const deadline = Date.now() + wait.timeoutMs
  const address = { host: '127.0.0.1', port: wait.port }
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
      throw new DevKafkaError(
        'BROKER_START_TIMEOUT',
        `${label} did not answer within ${wait.timeoutMs} ms. Last lines of ${wait.logFile}:\n${logTail(wait.logFile)}`,
      )
    }
    if (wait.logOffset !== undefined && !logSince(wait.logFile, wait.logOffset).includes(SERVER_STARTED))
      continue
    const facts = await probeBroker(address, 1000).catch(() => undefined)
    if (!facts) continue
    // A broker that answered and then exits (it could not bind a later listener) fails the
    // checks below: not ready yet, and its exit is reported on the next turn.
    const listening = await Promise.all(wait.otherPorts.map((p) => accepts(p)))
    if (!listening.every(Boolean)) continue
    const modern = hasModernGroups(wait.version)
    const reason = await (modern
      ? shareGroupsUnavailableReason(address, facts)
      : groupCoordinatorUnavailableReason(address)
    ).catch(() => null)
    if (reason === null || wait.exited() !== undefined) continue
    if (reason) {
      await kill(wait.pid)
      throw modern
        ? new DevKafkaError(
            'SHARE_GROUPS_UNAVAILABLE',
            `The broker started but share groups cannot be used: ${reason}.`,
          )
        : new DevKafkaError(
            'BROKER_START_TIMEOUT',
            `The broker started but consumer groups cannot be used: ${reason}.`,
          )
    }
    return facts.features
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
