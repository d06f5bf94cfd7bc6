import { ShareError } from './errors.ts'
import type { ShareSession } from './share-session.ts'

/**
 * Closes the sessions (each sends what is queued, then its final request) within `timeoutMs`;
 * past it, or when `aborted`, they stop at once and their connections close: the broker
 * releases what is left.
 */
export async function closeSessions(
  sessions: readonly ShareSession[],
  aborted: boolean,
  timeoutMs: number,
  warning: (error: ShareError) => void,
): Promise<void> {
  if (aborted) {
    await Promise.all(sessions.map((s) => s.abort()))
    return
  }
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  const closed = await Promise.race([Promise.all(sessions.map((s) => s.close())), deadline])
  clearTimeout(timer)
  if (closed !== 'timeout') return
  warning(
    new ShareError(
      'CONSUMER_CLOSED',
      `closing took longer than ${timeoutMs} ms: connections closed, the broker releases what is left`,
    ),
  )
  await Promise.all(sessions.map((s) => s.abort()))
}
