import { setImmediate as yieldToEventLoop } from 'node:timers/promises'

/**
 * The two processing styles. They share everything else in the runtime and differ only in
 * when records are taken and when progress is flushed.
 */

/** What a style loop drives. */
export interface StyleHost {
  /** False once the runtime stops (or failed): the loop ends. */
  readonly running: boolean
  /** Records taken and not finished (queued, running, waiting for a retry). */
  readonly inFlight: number
  /** Records that may be taken now (continuous style: the free part of the topics' budgets). */
  budget(): number
  /**
   * Takes up to `max` records under the intake limits and dispatches them; returns how many
   * were taken, as a promise when the time slice ran out and the rest went on in later ones.
   */
  takeAndDispatch(max: number): number | Promise<number>
  /** Reports progress (one flush at a time); never rejects. */
  flush(): Promise<void>
  waitForRecords(timeoutMs: number): Promise<void>
  /** Resolves when records finish or intake frees up, or after `timeoutMs`. */
  waitForCapacity(timeoutMs: number): Promise<void>
}

/** Take at most `maxPollRecords` → run them all (within ordering and capacity) → commit → repeat. */
export async function runBlocking(host: StyleHost, maxPollRecords: number): Promise<void> {
  while (host.running) {
    if ((await host.takeAndDispatch(maxPollRecords)) === 0) {
      // Idle: commit the last poll's offsets, without waiting for the broker's answer (that
      // round trip would stall the next poll each time the buffer runs dry).
      void host.flush()
      await host.waitForRecords(200)
      continue
    }
    // Synchronous handlers may have run the whole poll already: let timers, heartbeats and
    // fetch responses in before the next one.
    await yieldToEventLoop()
    // A stop ends the wait: the shutdown drain bounds what is still running.
    while (host.inFlight > 0 && host.running) await host.waitForCapacity(1000)
    // The commit runs while the next poll is processed (commits stay serialized, one at a
    // time); a revocation or shutdown commits the latest offsets anyway.
    void host.flush()
  }
}

/** Keep taking while the budget has room; the runtime's timer commits what is done. */
export async function runContinuous(host: StyleHost): Promise<void> {
  while (host.running) {
    const budget = host.budget()
    const taken = budget > 0 ? await host.takeAndDispatch(budget) : 0
    if (taken > 0) {
      // Synchronous handlers (or a filter that rejects most records) would otherwise keep the
      // event loop until the buffers run dry: no timer, heartbeat or fetch response meanwhile.
      await yieldToEventLoop()
      continue
    }
    if (budget > 0) await Promise.race([host.waitForRecords(250), host.waitForCapacity(250)])
    else await host.waitForCapacity(250)
  }
}
