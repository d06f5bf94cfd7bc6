/** What a {@link LeaderTracker} asks of its engine. */
export interface LeaderTrackerHost {
  /**
   * Refreshes the metadata of the engine's partitions and applies their leaders (starting what
   * a new leader needs). Resolves true when every partition has a leader, false when some has
   * none right now (a broker shutting down answered): it is asked again, with backoff.
   */
  refresh(): Promise<boolean>
  /** A refresh failed (it is retried with backoff). */
  failed(error: Error): void
  /**
   * True when nothing else calls `maybeRefresh` while the leaders are stale, so the tracker
   * must retry on a timer of its own (e.g. the fetcher before any fetch loop runs).
   */
  retriesOnItsOwn(): boolean
}

/** Refreshes while some leader is unknown start this far apart… */
export const MIN_LEADER_BACKOFF_MS = 100
/** …and double up to this (no request storm for a leaderless partition). */
export const MAX_LEADER_BACKOFF_MS = 2000

/**
 * Partition leader tracking for both engines (the group consumer's fetcher and the share
 * consumer): one refresh at a time (concurrent callers share it), and while a refresh fails or
 * leaves a partition without a leader, the next ones back off 100 ms doubling to 2 s; a refresh
 * that finds every leader resets the backoff.
 */
export class LeaderTracker {
  readonly #host: LeaderTrackerHost
  #refreshing: Promise<void> | undefined
  #stale = false
  #backoffMs = 0
  #nextRefreshAt = 0
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(host: LeaderTrackerHost) {
    this.#host = host
  }

  /** Some leader is unknown or wrong: the next `maybeRefresh` (once backoff allows) refreshes. */
  get stale(): boolean {
    return this.#stale
  }

  /** When the backoff allows the next refresh (ms since the epoch; 0: now). */
  get nextRefreshAt(): number {
    return this.#nextRefreshAt
  }

  /** The current backoff (0 while leaders are known). */
  get backoffMs(): number {
    return this.#backoffMs
  }

  /** A leader turned out wrong or gone (a partition error, a failed request). */
  markStale(): void {
    this.#stale = true
  }

  /** Refreshes now, whatever the backoff (new partitions: their leaders are not known yet). */
  refresh(): Promise<void> {
    this.#nextRefreshAt = 0
    return this.#refresh()
  }

  /** Refreshes unless a refresh failed to find every leader a moment ago (backoff). */
  async maybeRefresh(): Promise<void> {
    if (Date.now() >= this.#nextRefreshAt) await this.#refresh()
  }

  /** No more refreshes (a pending retry timer is cleared). */
  close(): void {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#refreshing ??= this.#run()
    return this.#refreshing
  }

  async #run(): Promise<void> {
    try {
      this.#stale = !(await this.#host.refresh())
    } catch (error) {
      this.#stale = true
      this.#host.failed(error as Error)
    } finally {
      this.#refreshing = undefined
      this.#schedule()
    }
  }

  #schedule(): void {
    if (!this.#stale) {
      this.#backoffMs = 0
      this.#nextRefreshAt = 0
      return
    }
    this.#backoffMs = Math.min(Math.max(MIN_LEADER_BACKOFF_MS, this.#backoffMs * 2), MAX_LEADER_BACKOFF_MS)
    this.#nextRefreshAt = Date.now() + this.#backoffMs
    if (this.#closed || this.#timer || !this.#host.retriesOnItsOwn()) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#refresh()
    }, this.#backoffMs)
  }
}
