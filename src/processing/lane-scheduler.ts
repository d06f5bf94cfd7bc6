import { Fifo } from './fifo.ts'
import { TimeSlice } from './time-slice.ts'

/** What running a unit returned: finished, or to be run again later (a retry). */
export type UnitOutcome = { done: true } | { done: false; retryAfterMs: number }

/** The outcome of a finished unit: one object, so the scheduler tells it apart by identity. */
export const UNIT_DONE: UnitOutcome = Object.freeze({ done: true })
const DONE = UNIT_DONE

class Lane<U> {
  readonly key: string
  /** Its units in order; while the lane is not idle, the head is the running or waiting one. */
  readonly queue = new Fifo<U>()
  state: 'idle' | 'running' | 'waiting' = 'idle'

  constructor(key: string) {
    this.key = key
  }
}

/** A unit waiting for its retry, with its lane (null: no lane). */
interface Waiting<U> {
  unit: U
  lane: Lane<U> | null
  timer: NodeJS.Timeout
}

export interface SchedulerHooks<U> {
  /** Runs a unit; may finish synchronously (a handler that returned no promise). */
  run(unit: U): UnitOutcome | Promise<UnitOutcome>
  /**
   * `run` threw or rejected: a bug, not a handler failure (`run` handles those). The unit is
   * treated as done so its lane is not blocked forever; the owner should stop.
   */
  failed(unit: U, error: unknown): void
}

/** Told which units are parked: the intake budget (intake-budget.ts) in the runtime. */
export interface Parking<U> {
  /**
   * A unit stopped (`true`) or started again (`false`) counting as runnable work: it waits for
   * its retry, or sits in a lane behind one that does. Parked units hold no slot and should
   * not hold the taking budget either, or one retrying record would stall everything else.
   */
  parked(unit: U, parked: boolean): void
}

/**
 * Runs units (records or batches) with at most `concurrency` running at once. Units of the
 * same lane run one at a time in enqueue order; units without a lane (null) run in any
 * order. A unit that asks to be retried keeps its lane blocked (later units of the lane
 * wait, parked) but frees its concurrency slot while it waits.
 *
 * Units that finish synchronously (or whose promises settle one after another in microtasks)
 * would run back to back without the event loop getting a turn: once the time slice is spent,
 * the next unit starts in a later macrotask instead.
 */
export class LaneScheduler<U> {
  readonly #concurrency: number
  readonly #hooks: SchedulerHooks<U>
  readonly #parking: Parking<U>
  readonly #lanes = new Map<string, Lane<U>>()
  /** Lanes with a queued unit and nothing running, plus units without a lane, in arrival order. */
  readonly #ready = new Fifo<Lane<U> | U>()
  readonly #waiting = new Set<Waiting<U>>()
  #running = 0
  readonly #slice: TimeSlice
  #pumping = false
  #pumpAgain = false
  /** A pump waits for the next time slice. */
  #deferred = false

  constructor(
    concurrency: number,
    parking: Parking<U>,
    hooks: SchedulerHooks<U>,
    slice: TimeSlice = new TimeSlice(),
  ) {
    this.#concurrency = concurrency
    this.#hooks = hooks
    this.#parking = parking
    this.#slice = slice
  }

  get running(): number {
    return this.#running
  }

  /**
   * Queues a unit of `lane` (null: no lane) and starts what may start. `sliceChecked`: the caller
   * asked the time slice with no user call since; the first unit started skips that question.
   */
  enqueue(lane: string | null, unit: U, sliceChecked = false): void {
    if (lane === null) {
      // Nothing ahead of it and a slot free (a scheduler that keeps up): start it now.
      if (
        !this.#pumping &&
        !this.#deferred &&
        this.#ready.length === 0 &&
        this.#running < this.#concurrency &&
        (sliceChecked || !this.#slice.spent())
      ) {
        this.#start(null, unit)
        return
      }
      this.#ready.push(unit)
    } else {
      let l = this.#lanes.get(lane)
      if (!l) {
        l = new Lane(lane)
        this.#lanes.set(lane, l)
      }
      l.queue.push(unit)
      if (l.state === 'waiting') this.#parking.parked(unit, true)
      else if (l.state === 'idle' && l.queue.length === 1) this.#ready.push(l)
    }
    this.#pump(sliceChecked)
  }

  /** Units of `lane` queued, running or waiting. */
  queued(lane: string): number {
    return this.#lanes.get(lane)?.queue.length ?? 0
  }

  /**
   * Removes units matching `predicate` that are not running: queued ones, and those waiting
   * for a retry (their timers are cancelled). Returns them; the caller accounts for them.
   */
  drop(predicate: (unit: U) => boolean): U[] {
    const dropped = this.#ready.remove((entry) => !(entry instanceof Lane) && predicate(entry)) as U[]
    for (const w of [...this.#waiting]) {
      if (!predicate(w.unit)) continue
      clearTimeout(w.timer)
      this.#waiting.delete(w)
      dropped.push(w.unit)
      if (w.lane) {
        w.lane.queue.shift()
        w.lane.state = 'idle'
        // Units of a lane belong to one partition, so the rest normally goes too; if not, it
        // is runnable again.
        for (const u of w.lane.queue) if (!predicate(u)) this.#parking.parked(u, false)
        if (w.lane.queue.length > 0) this.#ready.push(w.lane)
      }
    }
    for (const lane of this.#lanes.values()) {
      // The head of a running lane is the running unit: it is not dropped.
      const start = lane.state === 'running' ? 1 : 0
      for (const u of lane.queue.remove(predicate, start)) dropped.push(u)
      if (lane.queue.length === 0 && lane.state === 'idle') this.#lanes.delete(lane.key)
    }
    return dropped
  }

  /** Cancels pending retries and removes everything not running; returns what was removed (shutdown). */
  close(): U[] {
    return this.drop(() => true)
  }

  /** `sliceChecked`: the slice was just asked, with no user call since (see {@link enqueue}). */
  #pump(sliceChecked = false): void {
    // Synchronous finishes call back into #pump: loop instead of recursing (one per record).
    if (this.#pumping) {
      this.#pumpAgain = true
      return
    }
    this.#pumping = true
    try {
      let checked = sliceChecked
      do {
        this.#pumpAgain = false
        this.#pumpOnce(checked)
        checked = false
      } while (this.#pumpAgain)
    } finally {
      this.#pumping = false
    }
  }

  /** Starts ready units while slots are free; the slice is asked before each (but the first, when `checked`). */
  #pumpOnce(checked: boolean): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      if (!checked && this.#slice.spent()) {
        this.#defer()
        return
      }
      const entry = this.#ready.shift()!
      if (!(entry instanceof Lane)) {
        checked = false
        this.#start(null, entry)
        continue
      }
      const unit = entry.queue.peek()
      if (unit === undefined || entry.state !== 'idle' || this.#lanes.get(entry.key) !== entry) continue
      entry.state = 'running'
      checked = false
      this.#start(entry, unit)
    }
  }

  /** Pumps again in the next time slice (once, however many times the slice ran out meanwhile). */
  #defer(): void {
    if (this.#deferred) return
    this.#deferred = true
    void this.#slice.next().then(() => {
      this.#deferred = false
      this.#pump()
    })
  }

  #start(lane: Lane<U> | null, unit: U): void {
    this.#running++
    let outcome: UnitOutcome | Promise<UnitOutcome>
    try {
      outcome = this.#hooks.run(unit)
    } catch (error) {
      this.#hooks.failed(unit, error)
      outcome = DONE
    }
    // Most units finish synchronously with the shared outcome: no `instanceof` for them.
    if (outcome !== DONE && outcome instanceof Promise) {
      outcome.then(
        (o) => this.#finish(lane, unit, o),
        (error: unknown) => {
          this.#hooks.failed(unit, error)
          this.#finish(lane, unit, DONE)
        },
      )
    } else {
      this.#finish(lane, unit, outcome)
    }
  }

  #finish(lane: Lane<U> | null, unit: U, outcome: UnitOutcome): void {
    this.#running--
    if (!outcome.done) {
      this.#wait(lane, unit, outcome.retryAfterMs)
    } else if (lane) {
      lane.queue.shift()
      lane.state = 'idle'
      // An empty lane stays: its partition's next record would make it again (a Map insert
      // and delete per record). Lanes are per partition or per virtual partition, so they are
      // bounded; `drop` removes the empty ones when a partition leaves.
      if (lane.queue.length > 0) this.#ready.push(lane)
    }
    if (this.#ready.length > 0) this.#pump()
  }

  #wait(lane: Lane<U> | null, unit: U, delayMs: number): void {
    if (lane) lane.state = 'waiting'
    for (const u of lane ? lane.queue : [unit]) this.#parking.parked(u, true)
    const waiting: Waiting<U> = {
      unit,
      lane,
      timer: setTimeout(() => {
        this.#waiting.delete(waiting)
        if (lane) lane.state = 'idle'
        for (const u of lane ? lane.queue : [unit]) this.#parking.parked(u, false)
        this.#ready.unshift(lane ?? unit)
        this.#pump()
      }, delayMs),
    }
    this.#waiting.add(waiting)
  }
}
