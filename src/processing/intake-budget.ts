import type { IntakeLimit } from '../engine/types.ts'
import { WakeSignal } from '../engine/wake-signal.ts'
import type { Parking } from './lane-scheduler.ts'
import type { PartitionRun, TopicLoad } from './partition-run.ts'
import type { ProcessingStyle, RuntimeTopic } from './runtime-input.ts'
import type { WorkUnit } from './work-unit.ts'

/**
 * With ordered processing, records wait in their lanes behind the running one. Taking up to
 * this many times `capacity` (running + waiting) keeps free lanes busy while hot keys queue;
 * without it a few hot keys would fill the budget and idle every other lane.
 */
export const LANE_LOOKAHEAD_FACTOR = 4

/**
 * Records waiting behind a retry (parked) stay in memory: Kafka cannot skip them. A partition
 * may hold this many times its take limit in all, so its other lanes go on for a good while
 * behind a stuck one, and memory stays bounded when they cannot.
 */
export const PARKED_FACTOR = 10

export interface IntakeBudgetOptions {
  style: ProcessingStyle
  topics: readonly RuntimeTopic[]
  /** The runs of the assigned partitions by partition key: the runtime keeps it, the budget reads it. */
  runs: ReadonlyMap<string, PartitionRun>
  /** The last record in flight of `run` left (a seek waiting for it may apply now). */
  drained(run: PartitionRun): void
}

/**
 * How many records one member may take, and the count of those it holds. A take asks
 * {@link IntakeBudget.limit} per partition and is granted records (reserved until
 * {@link IntakeBudget.endTake}); the dispatcher {@link IntakeBudget.admit}s what it queues; the
 * lane scheduler reports units {@link IntakeBudget.parked} behind a retry, which hold no budget;
 * the executor {@link IntakeBudget.release}s units that finish or are abandoned. Whenever room
 * may have come free, the capacity signal wakes the style loop.
 *
 * Budgets: in continuous style a topic may have `capacity` records taken and runnable
 * (× {@link LANE_LOOKAHEAD_FACTOR} with ordering, for the records waiting in lanes); records
 * parked behind a retry do not count, so one failing record cannot starve the other partitions
 * and lanes. Each partition may hold as many runnable records, and {@link PARKED_FACTOR} times
 * as many in all (parked included), and takes no more than its progress allows (offset map and
 * window limits). Blocking style takes what the progress allows: its poll size bounds it.
 */
export class IntakeBudget implements Parking<WorkUnit> {
  readonly #continuous: boolean
  readonly #topics: readonly RuntimeTopic[]
  readonly #loads = new Map<string, TopicLoad>()
  readonly #runs: ReadonlyMap<string, PartitionRun>
  readonly #drained: (run: PartitionRun) => void
  /** Runs granted records in the take under way (their reservations end with it). */
  readonly #granted: PartitionRun[] = []
  readonly #freed = new WakeSignal()
  #inFlight = 0

  constructor(options: IntakeBudgetOptions) {
    this.#continuous = options.style === 'continuous'
    this.#topics = options.topics
    this.#runs = options.runs
    this.#drained = options.drained
    for (const t of options.topics) this.#loads.set(t.name, { active: 0, reserved: 0 })
  }

  /** The load of a topic, shared by the runs of its partitions. */
  loadOf(topic: string): TopicLoad {
    return this.#loads.get(topic)!
  }

  /** Records taken and not finished (queued, running, waiting for a retry), all topics. */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Records that may be taken now: the free part of the topics' budgets (continuous style). */
  free(): number {
    let free = 0
    for (const t of this.#topics) free += Math.max(0, takeLimit(t) - this.#loads.get(t.name)!.active)
    return free
  }

  /** How many of `wanted` records of a partition this take may have; those are reserved until {@link endTake}. */
  readonly limit: IntakeLimit = (key, wanted) => {
    const run = this.#runs.get(key)
    if (!run?.takesRecords) return 0
    let n = Math.min(wanted, run.progress.intakeAllowance())
    if (this.#continuous) {
      const limit = takeLimit(run.topic)
      n = Math.min(
        n,
        limit - run.load.active - run.load.reserved,
        limit - (run.inFlight - run.parked) - run.reserved,
        limit * PARKED_FACTOR - run.inFlight - run.reserved,
      )
    }
    if (!(n > 0)) return 0
    if (run.reserved === 0) this.#granted.push(run)
    run.reserved += n
    run.load.reserved += n
    return n
  }

  /** The take's reservations end: its records are dispatched (admitted) or left. */
  endTake(): void {
    for (const run of this.#granted) {
      run.reserved = 0
      run.load.reserved = 0
    }
    this.#granted.length = 0
  }

  /** A unit goes to its lane (taken at `now`, `performance.now()` ms): its records count as in flight and runnable. */
  admit(unit: WorkUnit, now = performance.now()): void {
    const n = unit.size
    unit.run.takenAt.add(unit, now)
    unit.run.inFlight += n
    unit.run.load.active += n
    this.#inFlight += n
  }

  /** The unit waits for its retry or behind one (`true`), or is runnable again (`false`). */
  parked(unit: WorkUnit, parked: boolean): void {
    if (unit.parked === parked) return
    unit.parked = parked
    const delta = parked ? unit.size : -unit.size
    unit.run.parked += delta
    unit.run.load.active -= delta
    // A parked record frees budget for other partitions and lanes.
    if (parked) this.#freed.notify()
  }

  /** The unit's records leave the in-flight count (finished, dead-lettered, or abandoned); once only. */
  release(unit: WorkUnit): void {
    if (unit.released) return
    unit.released = true
    const n = unit.size
    const { run } = unit
    run.takenAt.delete(unit)
    run.inFlight -= n
    this.#inFlight -= n
    if (unit.parked) run.parked -= n
    else run.load.active -= n
    unit.parked = false
    if (run.inFlight === 0) {
      run.idle.notify()
      this.#drained(run)
    }
    this.#freed.notify()
  }

  /** The capacity signal: records may be taken again (room freed, a partition resumed, the runtime stops…). */
  wake(): void {
    this.#freed.notify()
  }

  /** Resolves at the next {@link wake} (or at once if one came since the last wait), or after `timeoutMs`. */
  waitForCapacity(timeoutMs: number): Promise<void> {
    return this.#freed.wait(timeoutMs)
  }
}

/** Records of a topic that may be taken and unfinished: running (≤ capacity) plus waiting in lanes. */
function takeLimit(topic: RuntimeTopic): number {
  const { capacity, ordering } = topic.processing
  return ordering === 'unordered' ? capacity : capacity * LANE_LOOKAHEAD_FACTOR
}
