import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * Where multilane keeps its machine-local state: `MULTILANE_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/multilane`, else `~/.cache/multilane`.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MULTILANE_CACHE_DIR) return env.MULTILANE_CACHE_DIR
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(base, 'multilane')
}

/** Jar cache of one Kafka version. */
export function jarCacheDir(version: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'kafka', version)
}

/**
 * Runtime directory of the local broker (an absolute path): state file, config, log, data.
 * `MULTILANE_BROKER_DIR` moves it: a second, independent broker (a project of its own, a test
 * run, the launcher's own tests).
 */
export function brokerDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.MULTILANE_BROKER_DIR || join(cacheRoot(env), 'broker'))
}

/** The files of a broker directory. */
export interface BrokerFiles {
  dir: string
  /** The node's configuration; its path on the JVM's command line marks the process as this directory's. */
  propertiesFile: string
  log4jFile: string
  logFile: string
  dataDir: string
  /** The running (or starting) broker's record. */
  stateFile: string
  /** Written by `stop --keep`: what a later `start --restart` resumes. */
  keptFile: string
  /** Brokers added to the cluster (`addLocalBroker`). */
  nodesDir: string
}

export function brokerFiles(env: NodeJS.ProcessEnv = process.env): BrokerFiles {
  const dir = brokerDir(env)
  return {
    dir,
    propertiesFile: join(dir, 'server.properties'),
    log4jFile: join(dir, 'log4j2.properties'),
    logFile: join(dir, 'broker.log'),
    dataDir: join(dir, 'data'),
    stateFile: join(dir, 'state.json'),
    keptFile: join(dir, 'kept.json'),
    nodesDir: join(dir, 'nodes'),
  }
}

/**
 * The local broker's TLS files: a self-signed keystore made once per machine (10-year validity,
 * reused: each keytool run costs a JVM start) and its certificate as PEM for clients to trust.
 * A development keystore on loopback, readable by its owner only.
 */
export function devTlsFiles(env: NodeJS.ProcessEnv = process.env): {
  dir: string
  keystoreFile: string
  caFile: string
  password: string
} {
  const dir = join(cacheRoot(env), 'tls')
  return {
    dir,
    keystoreFile: join(dir, 'broker-keystore.p12'),
    caFile: join(dir, 'broker-ca.pem'),
    password: 'multilane-dev-keystore',
  }
}
