import type { ShareFetchOptions } from './session-host.ts'
import type { SharePartition } from './share-partition.ts'

/** What a share session does next. */
export type SessionStep =
  /** Closing and nothing left to send: the session is finished. */
  | { kind: 'finished' }
  /** Open a new session (an empty ShareFetch with epoch 0). */
  | { kind: 'open' }
  /** A ShareAcknowledge of what the led partitions have queued. */
  | { kind: 'acknowledge' }
  /** A ShareFetch of `wanted`, carrying their queued acknowledgements. */
  | { kind: 'fetch'; wanted: SharePartition[] }
  /** The final ShareAcknowledge (epoch -1); when closing, the session is finished after it. */
  | { kind: 'close'; finished: boolean }
  /** Nothing to send: wait (for a wake-up) at most this long. */
  | { kind: 'wait'; ms: number }

/** What the decision reads of the session and its member. */
export interface SessionView {
  closing: boolean
  /** 0: no session is open. */
  epoch: number
  /** A flush asked for acknowledgements to go out now. */
  flush: boolean
  /** No new session and no fetch before this (ms since the epoch) after a failure. */
  retryAt: number
  now: number
  /** Partitions this session's broker leads (assigned, or still holding locks). */
  led: SharePartition[]
  /** False where locks cannot be renewed: fetch on demand only (see ShareSession). */
  renewable: boolean
  fetch: ShareFetchOptions
  /** Records buffered across the member. */
  totalBuffered: number
  /** record_limit: the application waits for records. */
  wantsRecords: boolean
}

/** The assigned partitions with a topic id: the ones a fetch may name. */
export function fetchedPartitions(led: readonly SharePartition[]): SharePartition[] {
  return led.filter((p) => p.assigned && p.topicId !== '')
}

/**
 * The next request of a share session (one at a time: see ShareSession). Closing, queued
 * acknowledgements go out first, then the session closes. Open, acknowledgements ride on the
 * next fetch unless no fetch is due, a flush asks, a RENEW is queued (it cannot share a fetch)
 * or a partition not fetched has some; an idle session with nothing assigned ends.
 */
export function nextSessionStep(v: SessionView): SessionStep {
  const assigned = fetchedPartitions(v.led)
  // The lock budget is per partition: one that holds all it may is left out of the fetch
  // (forgotten by the session until it has room again), the others are still fetched.
  const wanted = assigned.filter((p) => p.room > 0)
  const acks = v.led.some((p) => p.hasAcks())
  const idleWait = { kind: 'wait', ms: v.retryAt > v.now ? v.retryAt - v.now : 1000 } as const
  if (v.closing) {
    // Everything queued (accepts, and the RELEASEs the member queued for what it still holds)
    // goes out in ordinary requests first, retries included; then the session ends.
    if (v.epoch === 0) return acks ? { kind: 'open' } : { kind: 'finished' }
    return acks ? { kind: 'acknowledge' } : { kind: 'close', finished: true }
  }
  if (v.epoch === 0) {
    if ((wanted.length === 0 && !acks) || v.now < v.retryAt) return idleWait
    return { kind: 'open' }
  }
  const wantedSet = new Set(wanted)
  const due = fetchDue(v, wanted)
  const mustAcknowledge =
    acks &&
    (v.flush ||
      !due ||
      v.led.some((p) => p.hasRenew()) ||
      v.led.some((p) => !wantedSet.has(p) && p.hasAcks()))
  if (mustAcknowledge) return { kind: 'acknowledge' }
  if (due) return { kind: 'fetch', wanted }
  // Nothing to fetch or hold here: end the session (a new assignment opens another).
  if (assigned.length === 0 && v.led.every((p) => p.isIdle())) return { kind: 'close', finished: false }
  return idleWait
}

/**
 * True when a fetch is due: with renewable locks, while the fetched partitions buffer fewer than
 * `maxRecords`; on demand (record_limit, or no renewal) only when nothing is buffered and the
 * application waits for records.
 */
function fetchDue(v: SessionView, wanted: readonly SharePartition[]): boolean {
  if (wanted.length === 0 || v.now < v.retryAt) return false
  const { acquireMode, maxRecords } = v.fetch
  if (acquireMode === 'record_limit' || !v.renewable) return v.totalBuffered === 0 && v.wantsRecords
  let buffered = 0
  for (const p of wanted) buffered += p.buffered
  return buffered < maxRecords
}
