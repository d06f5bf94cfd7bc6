/** What running a unit returned: finished, or to be run again later (a retry). */
export type UnitOutcome = { done: true } | { done: false; retryAfterMs: number }

const RETRY_LATER: UnitOutcome = { done: false, retryAfterMs: 1000 }

class Lane<U> {
  readonly key: string
  queue: U[] = []
  /** A unit of this lane is running or waiting for its retry. */
  busy = false

  constructor(key: string) {
    this.key = key
  }
}

/** A FIFO with O(1) shift (Array#shift copies on long arrays). */
class Fifo<T> {
  #items: T[] = []
  #head = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  push(item: T): void {
    this.#items.push(item)
  }

  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item
    else this.#items.unshift(item)
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const item = this.#items[this.#head]!
    this.#items[this.#head++] = undefined as T
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** Removes the items matching `predicate`; returns them. */
  remove(predicate: (item: T) => boolean): T[] {
    const kept: T[] = []
    const removed: T[] = []
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i]!
      ;(predicate(item) ? removed : kept).push(item)
    }
    this.#items = kept
    this.#head = 0
    return removed
  }
}

/**
 * Runs units (records or batches) with at most `concurrency` running at once. Units of the
 * same lane run one at a time in enqueue order; units without a lane (null) run in any
 * order. A unit that asks to be retried keeps its lane blocked (later units of the lane
 * wait) but frees its concurrency slot while it waits.
 */
export class LaneScheduler<U> {
  readonly #concurrency: number
  readonly #run: (unit: U) => UnitOutcome | Promise<UnitOutcome>
  readonly #lanes = new Map<string, Lane<U>>()
  /** Lanes with a queued unit and nothing running, plus units without a lane, in arrival order. */
  readonly #ready = new Fifo<Lane<U> | U>()
  #running = 0
  readonly #timers = new Set<NodeJS.Timeout>()

  #pumping = false
  #pumpAgain = false

  /** `run` may finish synchronously (a handler that returned no promise): no microtask is spent then. */
  constructor(concurrency: number, run: (unit: U) => UnitOutcome | Promise<UnitOutcome>) {
    this.#concurrency = concurrency
    this.#run = run
  }

  get running(): number {
    return this.#running
  }

  enqueue(lane: string | null, unit: U): void {
    if (lane === null) {
      this.#ready.push(unit)
    } else {
      let l = this.#lanes.get(lane)
      if (!l) {
        l = new Lane(lane)
        this.#lanes.set(lane, l)
      }
      l.queue.push(unit)
      if (!l.busy && l.queue.length === 1) this.#ready.push(l)
    }
    this.#pump()
  }

  /** Units of `lane` queued or running. */
  queued(lane: string): number {
    return this.#lanes.get(lane)?.queue.length ?? 0
  }

  /** Removes queued (not running) units matching `predicate`; returns them. */
  drop(predicate: (unit: U) => boolean): U[] {
    const dropped = this.#ready.remove((entry) => !(entry instanceof Lane) && predicate(entry)) as U[]
    for (const lane of this.#lanes.values()) {
      // The head of a busy lane is the running (or retry-waiting) unit: it is not dropped.
      const start = lane.busy ? 1 : 0
      const kept = lane.queue.slice(0, start)
      for (const u of lane.queue.slice(start)) (predicate(u) ? dropped : kept).push(u)
      lane.queue = kept
      if (lane.queue.length === 0 && !lane.busy) this.#lanes.delete(lane.key)
    }
    return dropped
  }

  /** Cancels pending retry timers (shutdown). */
  close(): void {
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
  }

  #pump(): void {
    // Synchronous finishes call back into #pump: loop instead of recursing (one per record).
    if (this.#pumping) {
      this.#pumpAgain = true
      return
    }
    this.#pumping = true
    try {
      do {
        this.#pumpAgain = false
        this.#pumpOnce()
      } while (this.#pumpAgain)
    } finally {
      this.#pumping = false
    }
  }

  #pumpOnce(): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      const entry = this.#ready.shift()!
      if (!(entry instanceof Lane)) {
        this.#start(null, entry)
        continue
      }
      const unit = entry.queue[0]
      if (unit === undefined || entry.busy || this.#lanes.get(entry.key) !== entry) continue
      entry.busy = true
      this.#start(entry, unit)
    }
  }

  #start(lane: Lane<U> | null, unit: U): void {
    this.#running++
    let outcome: UnitOutcome | Promise<UnitOutcome>
    try {
      outcome = this.#run(unit)
    } catch {
      outcome = RETRY_LATER
    }
    if (outcome instanceof Promise) {
      outcome.then(
        (o) => this.#finish(lane, unit, o),
        // run() reports its own failures; a rejection here is a bug: retry rather than lose the unit.
        () => this.#finish(lane, unit, RETRY_LATER),
      )
    } else {
      this.#finish(lane, unit, outcome)
    }
  }

  #finish(lane: Lane<U> | null, unit: U, outcome: UnitOutcome): void {
    this.#running--
    if (!outcome.done) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer)
        if (lane) lane.busy = false
        this.#ready.unshift(lane ?? unit)
        this.#pump()
      }, outcome.retryAfterMs)
      this.#timers.add(timer)
      this.#pump()
      return
    }
    if (lane) {
      lane.queue.shift()
      lane.busy = false
      if (lane.queue.length > 0) this.#ready.push(lane)
      else this.#lanes.delete(lane.key)
    }
    this.#pump()
  }
}
