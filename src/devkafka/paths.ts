import { homedir } from 'node:os'
import { join } from 'node:path'

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
 * Runtime directory of the single local broker: state file, config, log, data.
 * `MULTILANE_BROKER_DIR` moves it (a second, independent broker; used by the launcher's own tests).
 */
export function brokerDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MULTILANE_BROKER_DIR || join(cacheRoot(env), 'broker')
}

/**
 * The local broker's TLS files: a self-signed keystore made once per machine (10-year validity,
 * reused: each keytool run costs a JVM start) and its certificate as PEM for clients to trust.
 * A development keystore on loopback; the password only protects the file from nobody.
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
