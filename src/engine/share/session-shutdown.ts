import { ShareError } from './errors.ts'
import type { SessionHost } from './session-host.ts'
import { locksGone } from './session-requests.ts'
import type { SharePartition } from './share-partition.ts'
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

/**
 * After the sessions stopped (their connections closed, and the locks with them): an
 * acknowledgement still queued, put back after a failed request, or queued while closing will
 * never be sent. Each is told lock_lost now, once (loseAll empties the queues); otherwise a
 * flush waiting for it would wait forever. Nothing is sent: the broker delivers those records
 * again.
 */
export function loseUnsent(host: SessionHost, partitions: Iterable<SharePartition>, reason: string): void {
  for (const p of partitions) locksGone(host, p.leaderId, p, reason)
}
