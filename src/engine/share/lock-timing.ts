/**
 * How far ahead of a lock's deadline a renewal must be asked for, at the least: a renewal waits
 * for the share session's request in flight (a fetch waits up to `maxWaitMs`) and then needs a
 * round trip; a second covers that round trip and the renewal sweep on a loaded machine.
 */
export function renewalLeadMs(maxWaitMs: number): number {
  return maxWaitMs + 1000
}

/**
 * The shortest lock duration renewal can serve: the lead plus a fetch wait. Below it a renewed
 * lock is due again before the fetch a renewal may have to wait out has ended: renewals run
 * back to back, and any stall longer than what is left (a busy event loop, a slow broker, a
 * garbage collection) loses the lock: the record is delivered again.
 */
export function minimumWorkableLockMs(maxWaitMs: number): number {
  return renewalLeadMs(maxWaitMs) + maxWaitMs
}

/** The warning for a lock duration renewal cannot serve, or undefined when it can. */
export function shortLockWarning(lockMs: number, maxWaitMs: number): string | undefined {
  const minimum = minimumWorkableLockMs(maxWaitMs)
  if (lockMs <= 0 || lockMs >= minimum) return undefined
  return `the acquisition lock is ${lockMs} ms, shorter than ${minimum} ms (fetch wait ${maxWaitMs} ms + 1000 ms to renew in, + another fetch wait): renewals run back to back and any stall loses locks (records are delivered again); raise share.record.lock.duration.ms (multilane share configure <group> --lock-duration-ms)`
}
