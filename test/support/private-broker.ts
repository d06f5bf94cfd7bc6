// A broker that a test run owns: its own directory under the system temp dir, the Kafka version
// asked for, stopped (and the directory removed) at the end. Brokers of runs that died before
// their teardown (Ctrl-C, a kill) are stopped by the next run.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type LocalKafkaState, startLocalKafka, stopLocalKafka } from '../../src/devkafka/local-broker.ts'

const PREFIX = 'multilane-run-broker-'

/** Set for test files when the run owns its broker (global setup, run-with-broker): its directory. */
export const SUITE_BROKER_DIR_ENV = 'MULTILANE_SUITE_BROKER_DIR'
const OWNER_FILE = 'owner.json'

export interface PrivateBroker {
  state: LocalKafkaState
  /** The broker directory (MULTILANE_BROKER_DIR for launcher calls on this broker). */
  dir: string
  /** Environment for processes that use this broker. */
  env: NodeJS.ProcessEnv
  stop(): Promise<void>
}

function ownerAlive(dir: string): boolean {
  let pid: number
  try {
    pid = (JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as { pid: number }).pid
  } catch {
    // Being created this instant by another run, or left half-made long ago.
    return Date.now() - statSync(dir).mtimeMs < 60_000
  }
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Stops the brokers of earlier runs whose process is gone, and removes their directories. */
export async function sweepAbandonedBrokers(): Promise<string[]> {
  const swept: string[] = []
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(PREFIX)) continue
    const dir = join(tmpdir(), entry)
    if (ownerAlive(dir)) continue
    // stopLocalKafka signals only this directory's own nodes.
    await stopLocalKafka({ env: { ...process.env, MULTILANE_BROKER_DIR: join(dir, 'broker') } }).catch(
      () => {},
    )
    rmSync(dir, { recursive: true, force: true })
    swept.push(dir)
  }
  return swept
}

export interface PrivateBrokerOptions {
  /** Apache Kafka version (default: MULTILANE_KAFKA_VERSION, else the pinned one). */
  version?: string
  /** ACL mode (`kafka start --acls`). */
  acls?: boolean
  onProgress?: (message: string) => void
}

/** Starts a broker owned by this process (see the module comment). */
export async function startPrivateBroker(options: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
  for (const dir of await sweepAbandonedBrokers())
    options.onProgress?.(`stopped the broker of an ended run in ${dir}`)
  const root = mkdtempSync(join(tmpdir(), PREFIX))
  writeFileSync(
    join(root, OWNER_FILE),
    `${JSON.stringify({ pid: process.pid, since: new Date().toISOString() })}\n`,
  )
  const dir = join(root, 'broker')
  const { KAFKA_BOOTSTRAP_SERVERS: _, ...inherited } = process.env
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    MULTILANE_BROKER_DIR: dir,
    ...(options.version ? { MULTILANE_KAFKA_VERSION: options.version } : {}),
  }
  try {
    const { state } = await startLocalKafka({
      env,
      ...(options.acls ? { acls: true } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    })
    return {
      state,
      dir,
      env: { ...env, KAFKA_BOOTSTRAP_SERVERS: state.bootstrap },
      stop: async () => {
        await stopLocalKafka({ env })
        rmSync(root, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await stopLocalKafka({ env }).catch(() => {})
    rmSync(root, { recursive: true, force: true })
    throw error
  }
}
