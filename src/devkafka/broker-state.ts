// Where the running local cluster is described: `state.json` in the broker directory.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isBrokerProcess } from './broker-process.ts'
import { brokerDir } from './paths.ts'

/** What `multilane kafka status` reports and what the test harness connects to. */
export interface LocalKafkaState {
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
  controllerPort: number
  version: string
  dataDir: string
  logFile: string
  startedAt: string
}

const STATE_FILE = 'state.json'

export function statePath(env: NodeJS.ProcessEnv): string {
  return join(brokerDir(env), STATE_FILE)
}

export function readState(env: NodeJS.ProcessEnv): LocalKafkaState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(env), 'utf8')) as LocalKafkaState
  } catch {
    return undefined
  }
}

export function writeState(env: NodeJS.ProcessEnv, state: LocalKafkaState): void {
  writeFileSync(statePath(env), `${JSON.stringify(state, null, 2)}\n`)
}

/** The state of the local broker, or undefined when none is running. Removes a stale state file. */
export async function localKafkaStatus(
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalKafkaState | undefined> {
  const state = readState(env)
  if (!state) return undefined
  if (isBrokerProcess(state.pid)) return state
  rmSync(statePath(env), { force: true })
  return undefined
}
