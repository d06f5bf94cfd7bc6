import type { PartitionRecords } from '../engine/types.ts'
import { partitionKey } from '../engine/types.ts'
import type { EventBus } from '../instrumentation/events.ts'
import type { PartitionRun } from './partition-run.ts'
import { ConsumedRecord } from './record.ts'
import type { ConsumerGroupInfo } from './runtime-input.ts'
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
  /** Hands a unit to the scheduler (and counts it). */
  enqueue(unit: WorkUnit): void
  /** The runtime's time slice: a take yields to the event loop once it is spent. */
  slice: TimeSlice
  /** False once the runtime stops: records not dispatched yet are left (delivered again). */
  running(): boolean
}

/**
 * Without user code per record (no filter, no virtual partitions partitioner) the slice is
 * checked every this many records: dispatching alone is cheap, and a handler run by the
 * enqueue checks the slice itself.
 */
const PLAIN_CHECK_EVERY = 16

/**
 * fetch → filter → dispatch: turns taken records into work units on lanes. Records the broker
 * already holds as done (a restored offset map) or the filter rejects are skipped; the rest
 * are tracked and queued under their topic's ordering.
 */
export class Dispatcher {
  readonly #o: DispatcherOptions

  constructor(options: DispatcherOptions) {
    this.#o = options
  }

  /**
   * Returns how many records went to processing. Yields to the event loop whenever the time
   * slice is spent (user calls — filter, partitioner, synchronous handlers — run inside).
   * After a yield the partition may have been revoked, sought or reset, or the runtime stopped:
   * the rest of its records is then left undispatched and untracked, so the commit stays below
   * them and they are delivered again (to whoever owns them).
   */
  async dispatch(batches: readonly PartitionRecords[]): Promise<number> {
    const { filter, slice } = this.#o
    let taken = 0
    let sinceCheck = 0
    /** Runs whose remaining records this take leaves (later batches of theirs too). */
    const cut = new Set<PartitionRun>()
    for (const batch of batches) {
      const run = this.#o.runOf(partitionKey(batch.topic, batch.partition))
      // Not ours any more: its records stay uncommitted and go to the next owner. (Records only
      // come for partitions the intake limit granted them to; gap reports come for any.)
      if (!run?.active || cut.has(run)) continue
      const topic = run.topic
      const units = topic.batchHandler ? new Map<string, WorkUnit>() : undefined
      const progress = run.progress
      const checkEvery = filter !== undefined || topic.processing.ordering === 'key' ? 1 : PLAIN_CHECK_EVERY
      let repositioned = false
      for (const record of batch.records) {
        if (++sinceCheck >= checkEvery) {
          sinceCheck = 0
          if (slice.spent()) {
            // Units gathered for a batch handler go first: the handler may run meanwhile.
            if (units) {
              for (const unit of units.values()) this.#o.enqueue(unit)
              units.clear()
            }
            await slice.next()
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
        const lane = this.#laneOf(run, wrapped)
        taken++
        if (units) {
          // A batch handler gets consecutive records of one lane (of the partition, when unordered).
          const key = lane ?? run.key
          const unit = units.get(key)
          if (unit) unit.add(record, wrapped)
          else units.set(key, new WorkUnit(this.#o.unitHost, run, progress, key, record, wrapped))
        } else {
          this.#o.enqueue(new WorkUnit(this.#o.unitHost, run, progress, lane, record, wrapped))
        }
      }
      if (repositioned) cut.add(run)
      else progress.advance(batch.nextOffset)
      if (units) for (const unit of units.values()) this.#o.enqueue(unit)
    }
    return taken
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
  #laneOf(run: PartitionRun, record: ConsumedRecord<unknown>): string | null {
    const { ordering } = run.topic.processing
    if (ordering === 'unordered') return null
    if (ordering === 'partition') return run.key
    const vp = run.topic.virtualPartitions
    let value: unknown
    try {
      value = vp.partitioner(record)
    } catch (error) {
      this.#report('virtual_partitions.partitioner.error', error, run, record.offset)
      return run.laneKey(0)
    }
    let lane = 0
    try {
      lane = vp.reducer(value, vp.maxPartitions)
      if (!Number.isInteger(lane) || lane < 0 || lane >= vp.maxPartitions) {
        throw new RangeError(`reducer returned ${lane}; expected an integer in [0, ${vp.maxPartitions})`)
      }
    } catch (error) {
      this.#report('virtual_partitions.reducer.error', error, run, record.offset)
      lane = 0
    }
    return run.laneKey(lane)
  }

  #report(
    type:
      | 'consumer.filter.error'
      | 'virtual_partitions.partitioner.error'
      | 'virtual_partitions.reducer.error',
    error: unknown,
    run: PartitionRun,
    offset: number,
  ): void {
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
