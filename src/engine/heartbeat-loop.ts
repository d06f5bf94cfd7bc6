import { COORDINATOR_BUSY, protocolErrorName } from '../kafka/protocol-errors.ts'
import { WakeSignal } from './wake-signal.ts'

/** What a membership decides after a heartbeat failed. */
export type HeartbeatOutcome =
  /** Retry with backoff (the coordinator is looked up again unless it only said it is busy). */
  | { action: 'retry' }
  /** The member is out of the group: beat again at once (it rejoins), after a short pause at most. */
  | { action: 'rejoin' }
  /** No retry fixes it: the loop stops, and `joined` rejects with this error. */
  | { action: 'fatal'; error: Error }

/**
 * The protocol a {@link HeartbeatLoop} runs: one request and what its failures mean. The loop
 * knows nothing of the request itself (ConsumerGroupHeartbeat, ShareGroupHeartbeat, or a classic
 * JoinGroup/SyncGroup/Heartbeat exchange all fit).
 */
export interface HeartbeatProtocol {
  /**
   * Sends one heartbeat to the coordinator and applies its answer; resolves with how long to
   * wait before the next one (ms). Throws what the request threw.
   */
  beat(coordinatorNodeId: number): Promise<number>
  /** A heartbeat (or the coordinator lookup) failed: what to do next. */
  failed(error: unknown, errorName: string | undefined): HeartbeatOutcome | Promise<HeartbeatOutcome>
  /** The loop stopped (left or fatal); called once, synchronously from `stop` / `fail`. */
  stopped?(): void
}

export interface HeartbeatLoopOptions {
  /** The coordinator of this group: looked up before the first beat and after it moved. */
  findCoordinator(): Promise<{ nodeId: number }>
  /** A rejoin waits min(backoff, this) first (0: at once). */
  rejoinPauseMaxMs: number
}

/** The first retry after a failed heartbeat waits this long… */
export const MIN_HEARTBEAT_BACKOFF_MS = 100
/** …doubling up to this; a successful heartbeat resets it. */
export const MAX_HEARTBEAT_BACKOFF_MS = 5000

/**
 * The heartbeat loop every group membership runs: look the coordinator up, beat, wait the
 * interval the last beat asked for (or less, when `wake` is called), and on failure back off
 * (100 ms doubling to 5 s), looking the coordinator up again unless it only said it is busy.
 * `start` resolves after the first successful beat (the member joined); `stop` ends the loop
 * at once, interrupting any wait.
 */
export class HeartbeatLoop {
  readonly #protocol: HeartbeatProtocol
  readonly #options: HeartbeatLoopOptions
  readonly #wake = new WakeSignal()
  /** Notified only by stop: backoff pauses end early then, but not on `wake`. */
  readonly #stopSignal = new WakeSignal()
  #coordinator: number | undefined
  #stopped = false
  #loop: Promise<void> | undefined
  #beatWaiters: Array<() => void> = []
  readonly #joined: { resolve: () => void; reject: (e: Error) => void; promise: Promise<void> }

  constructor(protocol: HeartbeatProtocol, options: HeartbeatLoopOptions) {
    this.#protocol = protocol
    this.#options = options
    let resolve!: () => void
    let reject!: (e: Error) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    promise.catch(() => {})
    this.#joined = { resolve, reject, promise }
  }

  /** The coordinator's node id (undefined before it was found, and after it moved). */
  get coordinatorNodeId(): number | undefined {
    return this.#coordinator
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** Starts beating (once); resolves after the first successful beat, rejects on a fatal error. */
  start(): Promise<void> {
    this.#loop ??= this.#run()
    return this.#joined.promise
  }

  /** Beats now instead of at the end of the interval. */
  wake(): void {
    this.#wake.notify()
  }

  /**
   * Resolves after the next successful beat (asking for it now), after `timeoutMs`, or at once
   * when the loop has stopped.
   */
  nextBeat(timeoutMs: number): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    this.#wake.notify()
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.#beatWaiters = this.#beatWaiters.filter((w) => w !== done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      this.#beatWaiters.push(done)
    })
  }

  /**
   * Stops beating and waits for the loop to end; `start` rejects with `closed` when the member
   * never joined.
   */
  async stop(closed: Error): Promise<void> {
    this.#halt()
    await this.#loop
    this.#joined.reject(closed)
  }

  /** Stops beating for a reason no retry fixes (also from outside the loop): `start` rejects with it. */
  fail(error: Error): void {
    this.#halt()
    this.#joined.reject(error)
  }

  #halt(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#wake.notify()
    this.#stopSignal.notify()
    this.#beatsDone()
    this.#protocol.stopped?.()
  }

  #beatsDone(): void {
    const waiters = this.#beatWaiters
    this.#beatWaiters = []
    for (const resolve of waiters) resolve()
  }

  async #run(): Promise<void> {
    let backoffMs = MIN_HEARTBEAT_BACKOFF_MS
    while (!this.#stopped) {
      let delayMs: number
      try {
        if (this.#coordinator === undefined)
          this.#coordinator = (await this.#options.findCoordinator()).nodeId
        delayMs = await this.#protocol.beat(this.#coordinator)
        backoffMs = MIN_HEARTBEAT_BACKOFF_MS
        this.#joined.resolve()
        this.#beatsDone()
      } catch (error) {
        const name = protocolErrorName(error)
        const outcome = await this.#protocol.failed(error, name)
        if (outcome.action === 'fatal') {
          this.fail(outcome.error)
          return
        }
        if (outcome.action === 'rejoin') {
          // Rejoin at once; the pause only keeps an error that persists from spinning.
          const pauseMs = Math.min(backoffMs, this.#options.rejoinPauseMaxMs)
          if (pauseMs > 0) {
            await this.#stopSignal.wait(pauseMs)
            backoffMs = Math.min(backoffMs * 2, MAX_HEARTBEAT_BACKOFF_MS)
          }
          continue
        }
        if (!name || !COORDINATOR_BUSY.has(name)) this.#coordinator = undefined
        await this.#stopSignal.wait(backoffMs)
        backoffMs = Math.min(backoffMs * 2, MAX_HEARTBEAT_BACKOFF_MS)
        continue
      }
      if (!this.#stopped) await this.#wake.wait(delayMs)
    }
  }
}
