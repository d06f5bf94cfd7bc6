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
