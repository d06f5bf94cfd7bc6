// The app's start waits for the cluster: a broker that is restarting, a cluster failing over or
// a network that is not up yet must not fail the start (and, under `multilane run --processes`,
// use up a worker's restarts) when a few seconds would do.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { ClusterError, isNetworkError, KafkaCluster } from '../kafka/cluster.ts'
import { type KafkaConnectionOptions, resolveConnection } from '../kafka/connection-options.ts'

/** Default of `kafka.startTimeoutMs`. */
export const START_TIMEOUT_DEFAULT_MS = 30_000
const FIRST_RETRY_MS = 500
const MAX_RETRY_MS = 5000

/** True for a failure to reach any broker: worth another attempt. */
export function isClusterUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  // A refused login also carries the client's network error ("Cannot connect to any broker"):
  // it is not worth another attempt (the credentials will not change), so it fails at once.
  if (code === 'AUTHENTICATION_FAILED') return false
  return code === 'NO_BROKER_REACHABLE' || isNetworkError(error)
}

/**
 * Resolves once a broker answers a metadata request. While none is reachable it retries (0.5 s,
 * doubling to 5 s), logging each failed attempt, until `kafka.startTimeoutMs` has passed; then
 * rejects with NO_BROKER_REACHABLE naming the attempts. Other errors (authentication) reject at
 * once. Once `stopped` aborts (the app is being stopped) an attempt under way is cut short (its
 * connection closed) and rejects, and a wait between attempts ends at once, resolving: a stop
 * must wait out neither a 5 s backoff nor a silent broker's kafka.requestTimeoutMs.
 */
export async function waitForCluster(
  kafka: KafkaConnectionOptions,
  logger: Logger,
  stopped: AbortSignal,
): Promise<void> {
  const timeoutMs = kafka.startTimeoutMs ?? START_TIMEOUT_DEFAULT_MS
  const started = Date.now()
  let delay = FIRST_RETRY_MS
  for (let attempt = 1; ; attempt++) {
    const cluster = new KafkaCluster(resolveConnection(kafka))
    // A broker that accepts the connection but never answers would hold the attempt for
    // kafka.requestTimeoutMs: a stop closes the connection, which ends the attempt at once.
    const onStop = () => void cluster.close()
    stopped.addEventListener('abort', onStop, { once: true })
    try {
      if (stopped.aborted) return
      await cluster.refreshMetadata([])
      if (attempt > 1) logger.info({ attempt }, `a broker answered (attempt ${attempt}): starting`)
      return
    } catch (error) {
      if (!isClusterUnreachable(error) || stopped.aborted) throw error
      const elapsed = Date.now() - started
      if (elapsed + delay > timeoutMs) {
        throw new ClusterError(
          'NO_BROKER_REACHABLE',
          `${(error as Error).message}; gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${elapsed} ms (kafka.startTimeoutMs: ${timeoutMs})`,
          { cause: error },
        )
      }
      logger.warn(
        { err: error, attempt, retryInMs: delay },
        `no broker reachable at start (attempt ${attempt}): retrying in ${delay} ms, for up to kafka.startTimeoutMs (${timeoutMs} ms)`,
      )
    } finally {
      stopped.removeEventListener('abort', onStop)
      await cluster.close()
    }
    await sleep(delay, undefined, { signal: stopped }).catch(() => {})
    if (stopped.aborted) return
    delay = Math.min(delay * 2, MAX_RETRY_MS)
  }
}
