export interface CommitScheduleOptions {
  /** At the latest this long after the previous commit started. */
  intervalMs: number
  /** As soon as this many records finished since the previous commit started (Infinity: on time only). */
  afterRecords: number
  /** Reports progress to the broker; never rejects. */
  flush(): Promise<void>
}

/**
 * When the continuous style commits: once `afterRecords` records finished since the last commit
 * started, or `intervalMs` after it, whichever comes first. A commit on time alone leaves up to
 * an interval of finished work uncommitted, all of it replayed after a crash; a commit per
 * record would cost a broker write per record. One commit is in flight at a time: whatever
 * triggers while one is out (more records, the timer) schedules exactly one follow-up, which
 * starts when it ends and takes everything finished meanwhile, so a burst or a slow broker make
 * fewer, larger commits rather than a queue of them.
 */
export class CommitSchedule {
  readonly #o: CommitScheduleOptions
  /** Records finished since the last commit started. */
  #finished = 0
  #inFlight = false
  #followUp = false
  #stopped = true
  #timer: NodeJS.Timeout | undefined
  #soon: NodeJS.Immediate | undefined

  constructor(options: CommitScheduleOptions) {
    this.#o = options
  }

  start(): void {
    this.#stopped = false
    this.#arm()
  }

  /** No commit is started after this (one in flight ends on its own). */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    if (this.#soon) clearImmediate(this.#soon)
    this.#soon = undefined
  }

  /** `count` records finished (handled, dead-lettered): a commit is due once enough did. */
  finished(count: number): void {
    this.#finished += count
    if (this.#finished < this.#o.afterRecords || this.#stopped) return
    if (this.#inFlight) {
      this.#followUp = true
      return
    }
    // Not from inside the executor's finish path: the commit starts once the unit settled.
    this.#soon ??= setImmediate(() => {
      this.#soon = undefined
      this.#trigger()
    })
  }

  #trigger(): void {
    if (this.#stopped) return
    if (this.#inFlight) {
      this.#followUp = true
      return
    }
    this.#inFlight = true
    this.#finished = 0
    this.#arm()
    void this.#o.flush().finally(() => {
      this.#inFlight = false
      if (!this.#followUp) return
      this.#followUp = false
      this.#trigger()
    })
  }

  #arm(): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#trigger(), this.#o.intervalMs)
  }
}
