import type { PartitionRecords } from '../engine/types.ts'
import { partitionKey } from '../engine/types.ts'
import type { EventBus } from '../instrumentation/events.ts'
import type { ConsumerGroupInfo } from './group-info.ts'
import type { IntakeBudget } from './intake-budget.ts'
import type { LaneScheduler } from './lane-scheduler.ts'
import type { PartitionRun } from './partition-run.ts'
import type { PartitionProgress } from './progress.ts'
import { ConsumedRecord } from './record.ts'
import { type RouteErrorReport, type Routing, route } from './routing/route.ts'
import type { VirtualPartitionsSettings } from './runtime-input.ts'
import type { TimeSlice } from './time-slice.ts'
import { type UnitHost, WorkUnit } from './work-unit.ts'

/**
 * Decides from the raw record (key, headers; the payload stays undeserialized) whether this
 * member processes it; records it rejects count as done at once. Parallel segments plug in
 * here. A filter handles its own errors (segments send a record whose routing failed to
 * segment 0 only); one that throws anyway is a bug, reported, and the record is processed.
 */
export type RecordFilter = (record: ConsumedRecord<unknown>) => boolean

export interface DispatcherOptions {
  group: ConsumerGroupInfo
  events: EventBus
  filter: RecordFilter | undefined
  /** The run of a partition key, if the partition is assigned. */
  runOf(key: string): PartitionRun | undefined
  unitHost: UnitHost
  /** Counts each unit queued. */
  budget: IntakeBudget
  /** The lane scheduler of each topic, by topic name. */
  schedulers: ReadonlyMap<string, LaneScheduler<WorkUnit>>
  /** The runtime's time slice: a take yields to the event loop once it is spent. */
  slice: TimeSlice
  /** False once the runtime stops: records not dispatched yet are left (delivered again). */
  running(): boolean
  /** The dispatcher left a batch of a run with a position reset pending (see PartitionRun). */
  applyReset(run: PartitionRun): void
}

/**
 * Gathering records for a batch handler without user code per record (no filter, no virtual
 * partitions partitioner), the slice is checked every this many records: gathering alone is
 * cheap. Records for a per-record handler are checked one by one: that check is also the
 * scheduler's before the record's handler, and its clock reading stamps the unit.
 */
const PLAIN_CHECK_EVERY = 16

const LANE_ERRORS = {
  partitioner: 'virtual_partitions.partitioner.error',
  reducer: 'virtual_partitions.reducer.error',
} as const

/** Where a take's dispatch stands: it stops when the time slice is spent and goes on from here. */
class Take {
  readonly batches: readonly PartitionRecords[]
  /** The batch being dispatched (its index), and its run; no run: the next batch is due. */
  batch = -1
  run: PartitionRun | undefined
  progress: PartitionProgress | undefined
  /** Units gathered for a batch handler, per lane. */
  units: Map<string, WorkUnit> | undefined
  /** How the run's topic routes records to lanes (ordering 'key' only). */
  lanes: Routing | undefined
  /** The next record of the batch. */
  record = 0
  checkEvery = PLAIN_CHECK_EVERY
  sinceCheck = 0
  /** See {@link Dispatcher}: the record's own slice check stands for the scheduler's. */
  checked = false
  taken = 0
  /** The run's topic's scheduler. */
  scheduler: LaneScheduler<WorkUnit> | undefined
  /** Runs whose remaining records this take leaves (later batches of theirs too). */
  readonly cut = new Set<PartitionRun>()

  constructor(batches: readonly PartitionRecords[]) {
    this.batches = batches
  }
}

/**
 * fetch → filter → dispatch: turns taken records into work units on lanes. Records the broker
 * already holds as done (a restored offset map) or the filter rejects are skipped; the rest
 * are tracked and queued under their topic's ordering.
 */
export class Dispatcher {
  readonly #o: DispatcherOptions
  /** Lane routing per topic's settings, built once (route runs per record: nothing built there). */
  readonly #routing = new WeakMap<VirtualPartitionsSettings, Routing>()
  /** Reports a record's lane routing error (one function for all records). */
  readonly #routeError: RouteErrorReport

  constructor(options: DispatcherOptions) {
    this.#o = options
    this.#routeError = (stage, error, record) =>
      this.#o.events.emit('error.occurred', {
        type: LANE_ERRORS[stage],
        error,
        consumerGroup: this.#o.group.name,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      })
  }

  /**
   * Dispatches a take; returns how many records went to processing — at once, or as a promise
   * when the time slice ran out first and the rest goes on in later slices (user calls —
   * filter, partitioner, synchronous handlers — run inside). After a yield the partition may
   * have been revoked, sought or reset, or the runtime stopped: the rest of its records is then
   * left undispatched and untracked, so the commit stays below them and they are delivered
   * again (to whoever owns them).
   */
  dispatch(batches: readonly PartitionRecords[]): number | Promise<number> {
    const take = new Take(batches)
    return this.#continue(take) ? take.taken : this.#resume(take)
  }

  async #resume(take: Take): Promise<number> {
    do await this.#o.slice.next()
    while (!this.#continue(take))
    return take.taken
  }

  /** Dispatches from where `take` stands; false when the slice ran out first (go on after a yield). */
  #continue(take: Take): boolean {
    const { filter, slice } = this.#o
    for (;;) {
      if (take.run === undefined) {
        if (++take.batch >= take.batches.length) return true
        const batch = take.batches[take.batch]!
        const run = this.#o.runOf(partitionKey(batch.topic, batch.partition))
        // Not ours any more: its records stay uncommitted and go to the next owner. (Records only
        // come for partitions the intake limit granted them to; gap reports come for any.)
        if (!run?.active || take.cut.has(run)) continue
        take.run = run
        take.scheduler = this.#o.schedulers.get(run.topic.name)!
        run.dispatching = true
        take.progress = run.progress
        take.units = run.topic.batchHandler ? new Map<string, WorkUnit>() : undefined
        take.lanes =
          run.topic.processing.ordering === 'key' ? this.#lanes(run.topic.virtualPartitions) : undefined
        take.record = 0
        take.checkEvery =
          !take.units || filter !== undefined || run.topic.processing.ordering === 'key'
            ? 1
            : PLAIN_CHECK_EVERY
        // No user call between this record's slice check and its handler's start: the check
        // stands for the scheduler's.
        take.checked = filter === undefined && run.topic.processing.ordering !== 'key'
      }
      const { run, units } = take
      const scheduler = take.scheduler!
      const progress = take.progress!
      const topic = run.topic
      const batch = take.batches[take.batch]!
      const records = batch.records
      let repositioned = false
      for (let i = take.record; i < records.length; i++) {
        if (++take.sinceCheck >= take.checkEvery) {
          take.sinceCheck = 0
          if (slice.spent()) {
            // Units gathered for a batch handler go first: the handler may run meanwhile.
            if (units) {
              for (const unit of units.values()) this.#enqueue(unit, scheduler, performance.now(), false)
              units.clear()
            }
            take.record = i
            return false
          }
        }
        // A handler sought (or the run ended, or is being revoked, or the runtime stops): the
        // rest of the batch is from the old position, or not ours to process.
        if (
          run.progress !== progress ||
          !run.active ||
          run.revoking ||
          run.seekTo !== undefined ||
          !this.#o.running()
        ) {
          repositioned = true
          break
        }
        const record = records[i]!
        // Records from a pending reset's position on come again from there.
        if (run.pendingReset !== undefined && record.offset >= run.pendingReset.to) {
          repositioned = true
          break
        }
        if (progress.shouldSkip(record.offset)) {
          progress.skip(record.offset)
          continue
        }
        const wrapped = new ConsumedRecord(record, topic.deserializer)
        if (filter !== undefined && !this.#accepts(filter, run, wrapped)) {
          progress.skip(record.offset)
          continue
        }
        progress.track(record.offset)
        const lane = this.#laneOf(run, take.lanes, wrapped)
        take.taken++
        if (units) {
          // A batch handler gets consecutive records of one lane (of the partition, when unordered).
          const key = lane ?? run.key
          const unit = units.get(key)
          if (unit) unit.add(record, wrapped)
          else units.set(key, new WorkUnit(this.#o.unitHost, run, progress, key, record, wrapped))
        } else {
          // Stamped with this record's slice check: after the handlers ahead of it ran.
          this.#enqueue(
            new WorkUnit(this.#o.unitHost, run, progress, lane, record, wrapped),
            scheduler,
            slice.lastRead,
            take.checked,
          )
        }
      }
      if (repositioned) take.cut.add(run)
      else progress.advance(batch.nextOffset)
      // Each read anew: the batch handlers of the units ahead may run inside their enqueue.
      if (units) for (const unit of units.values()) this.#enqueue(unit, scheduler, performance.now(), false)
      take.run = undefined
      take.scheduler = undefined
      run.dispatching = false
      if (run.pendingReset !== undefined) this.#o.applyReset(run)
    }
  }

  /**
   * Counts the unit as taken at `now` (`performance.now()`: health counts its time in flight from
   * there), then queues it; a synchronous handler may run and release it at once. `checked`: the
   * slice was asked with no user call since, so the scheduler need not ask again.
   */
  #enqueue(unit: WorkUnit, scheduler: LaneScheduler<WorkUnit>, now: number, checked: boolean): void {
    this.#o.budget.admit(unit, now)
    scheduler.enqueue(unit.lane, unit, checked)
  }

  #accepts(filter: RecordFilter, run: PartitionRun, record: ConsumedRecord<unknown>): boolean {
    try {
      return filter(record)
    } catch (error) {
      this.#report('consumer.filter.error', error, run, record.offset)
      return true
    }
  }

  /** The lane of a record under its topic's ordering (null: no ordering). */
  #laneOf(run: PartitionRun, lanes: Routing | undefined, record: ConsumedRecord<unknown>): string | null {
    const { ordering } = run.topic.processing
    if (ordering === 'unordered') return null
    if (ordering === 'partition' || lanes === undefined) return run.key
    return run.laneKey(route(record, lanes, this.#routeError))
  }

  #lanes(vp: VirtualPartitionsSettings): Routing {
    let routing = this.#routing.get(vp)
    if (!routing) {
      routing = { partitioner: vp.partitioner, reducer: vp.reducer, count: vp.maxPartitions }
      this.#routing.set(vp, routing)
    }
    return routing
  }

  #report(type: 'consumer.filter.error', error: unknown, run: PartitionRun, offset: number): void {
    this.#o.events.emit('error.occurred', {
      type,
      error: error instanceof Error ? error : new Error(String(error)),
      consumerGroup: this.#o.group.name,
      topic: run.topic.name,
      partition: run.partition,
      offset,
    })
  }
}
