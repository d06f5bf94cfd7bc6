// The app's onStop hooks, run once the app has stopped. Each is bounded: a hook that never
// settles (a pool whose close waits for a connection that never answers) must not keep
// `stop()` / `run()` — and so `multilane run` and an orchestrator's stop — waiting for ever.
import type { Logger } from 'pino'
import { MultilaneError } from '../errors.ts'

/**
 * Runs `hooks` one after another, each waited for up to `timeoutMs`. A hook that throws is
 * logged and the others still run; one still pending at `timeoutMs` is logged and left behind,
 * and the first such is returned as a SHUTDOWN_TIMEOUT error (the drain did not end cleanly).
 */
export async function runStopHooks(
  hooks: ReadonlyArray<() => unknown>,
  timeoutMs: number,
  logger: Logger,
): Promise<MultilaneError | undefined> {
  let failure: MultilaneError | undefined
  for (const [i, hook] of hooks.entries()) {
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timed out'>((resolve) => {
      timer = setTimeout(() => resolve('timed out'), timeoutMs)
    })
    try {
      const outcome = await Promise.race([Promise.resolve().then(hook), timedOut])
      if (outcome === 'timed out') {
        const name = hook.name ? ` (${hook.name})` : ''
        const error = new MultilaneError(
          'SHUTDOWN_TIMEOUT',
          `onStop hook ${i + 1} of ${hooks.length}${name} did not settle within shutdownTimeoutMs (${timeoutMs} ms): no longer waited for`,
        )
        logger.error({ err: error, hook: i + 1 }, 'an onStop hook did not settle within shutdownTimeoutMs')
        failure ??= error
      }
    } catch (error) {
      logger.error({ err: error, hook: i + 1 }, 'an onStop hook failed')
    } finally {
      clearTimeout(timer)
    }
  }
  return failure
}
