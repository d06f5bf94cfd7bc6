import type { Logger } from 'pino'
import type { AppSettings, ConsumerGroupDefinition, TopicDefinition } from '../app/definition.ts'
import type { AssignedPartition, PartitionRecords, RevokeReason, TopicPartition } from '../engine/types.ts'
import { partitionKey } from '../engine/types.ts'
import { WakeSignal } from '../engine/wake-signal.ts'
import type { EventBus } from '../instrumentation/events.ts'
import type { DeadLetterQueueProducer } from './dead-letter-queue.ts'
import { DeserializationError } from './deserializers.ts'
import { LaneScheduler, type UnitOutcome } from './lane-scheduler.ts'
import { PartitionRun, type PauseReason, type TopicLoad } from './partition-run.ts'
import type { Progress } from './progress.ts'
import { ConsumedRecord } from './record.ts'
import type { RecordSource, SourceAssignmentHooks } from './record-source.ts'
import { backoffDelay } from './retry-backoff.ts'
import { WorkUnit as Unit, type UnitHost } from './work-unit.ts'

/**
 * With ordered processing, records wait in their lanes behind the running one. Taking up to
 * this many times `capacity` (running + waiting) keeps free lanes busy while hot keys queue;
 * without it a few hot keys would fill the budget and idle every other lane.
 */
const LANE_LOOKAHEAD_FACTOR = 4

/**
 * Decides from the raw record (key, headers; the payload stays undeserialized) whether this
 * member processes it. Records it rejects count as done at once. Parallel segments plug in here.
 */
export type RecordFilter = (record: ConsumedRecord<unknown>) => boolean

export interface ProcessingRuntimeOptions {
  group: ConsumerGroupDefinition
  app: AppSettings
  events: EventBus
  logger: Logger
  deadLetters: DeadLetterQueueProducer
  /** Builds the record source; it reports assignment changes through `hooks`. */
  source(hooks: SourceAssignmentHooks): RecordSource
  /** Reports what is done to the broker (offset commits for a consumer group). */
  progress: Progress
  filter?: RecordFilter
}

/**
 * Runs one group member's processing: takes records from its source, filters them,
 * dispatches them to handlers under the topic's ordering and capacity, retries failures,
 * dead-letters what is exhausted, and tells its progress what is done, which reports it to
 * the broker. Blocking and continuous styles share all of it and differ only in when records
 * are taken and when progress is flushed.
 */
export class ProcessingRuntime implements UnitHost {
  readonly #source: RecordSource
  readonly #progress: Progress
  readonly #filter: RecordFilter | undefined
  readonly #group: ConsumerGroupDefinition
  readonly #app: AppSettings
  readonly #events: EventBus
  readonly #logger: Logger
  readonly #deadLetters: DeadLetterQueueProducer
  readonly #topics = new Map<string, TopicDefinition>()
  /** Records in flight per topic (shared with the topic's partition runs: no lookup per record). */
  readonly #topicLoad = new Map<string, TopicLoad>()
  readonly #runs = new Map<string, PartitionRun>()
  readonly #scheduler: LaneScheduler<Unit>
  readonly #capacityFreed = new WakeSignal()
  readonly #style: 'blocking' | 'continuous'
  #inFlight = 0
  #running = false
  #loop: Promise<void> | undefined
  #commitTimer: NodeJS.Timeout | undefined
  #statsTimer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined

  constructor(options: ProcessingRuntimeOptions) {
    this.#group = options.group
    this.#app = options.app
    this.#events = options.events
    this.#logger = options.logger.child({ consumerGroup: options.group.name })
    this.#deadLetters = options.deadLetters
    for (const t of options.group.topics) {
      this.#topics.set(t.name, t)
      this.#topicLoad.set(t.name, { inFlight: 0 })
    }
    const first = options.group.topics[0]!
    this.#style = first.processing.style
    const concurrency = Math.max(...options.group.topics.map((t) => t.processing.capacity))
    this.#scheduler = new LaneScheduler(concurrency, (unit) => this.#execute(unit))
    this.#progress = options.progress
    this.#filter = options.filter
    this.#source = options.source({
      onAssigned: (partitions) => this.#onAssigned(partitions),
      onRevoked: (partitions, reason) => this.#onRevoked(partitions, reason),
    })
  }

  get name(): string {
    return this.#group.name
  }

  /** Joins the group and starts processing. */
  async start(): Promise<void> {
    await this.#source.start()
    this.#running = true
    if (this.#style === 'continuous') {
      const interval = Math.min(...this.#group.topics.map((t) => t.processing.commitIntervalMs))
      this.#commitTimer = setInterval(() => void this.#flushAll(), interval)
    }
    if (this.#app.statisticsIntervalMs > 0) {
      this.#statsTimer = setInterval(() => this.#emitStatistics(), this.#app.statisticsIntervalMs)
    }
    this.#loop = this.#style === 'blocking' ? this.#blockingLoop() : this.#continuousLoop()
  }

  /** Graceful stop: take nothing new, finish in-flight records (bounded), commit, leave. */
  async stop(): Promise<void> {
    this.#running = false
    this.#source.interruptWait()
    this.#capacityFreed.notify()
    await this.#loop
    if (this.#commitTimer) clearInterval(this.#commitTimer)
    if (this.#statsTimer) clearInterval(this.#statsTimer)
    await this.#source.close()
    this.#scheduler.close()
  }

  // ── styles ────────────────────────────────────────────────────────────────────────────

  /** Take at most maxPollRecords → run them all (within ordering and capacity) → commit → repeat. */
  async #blockingLoop(): Promise<void> {
    const maxPoll = Math.max(...this.#group.topics.map((t) => t.processing.maxPollRecords))
    while (this.#running) {
      const batches = this.#source.takeRecords(maxPoll)
      if (this.#dispatch(batches) === 0) {
        // Idle: commit the last poll's offsets, without waiting for the broker's answer (that
        // round trip would stall the next poll each time the buffer runs dry).
        void this.#flushAll()
        await this.#source.waitForRecords(200)
        continue
      }
      while (this.#inFlight > 0) await this.#capacityFreed.wait(1000)
      // The commit runs while the next poll is processed (commits stay serialized, one at a
      // time); a revocation or shutdown commits the latest offsets anyway.
      void this.#flushAll()
    }
  }

  /** Keep taking while in-flight < capacity; a timer commits what is done. */
  async #continuousLoop(): Promise<void> {
    while (this.#running) {
      const budget = this.#budget()
      const taken = budget > 0 ? this.#dispatch(this.#source.takeRecords(budget)) : 0
      if (taken > 0) continue
      if (budget > 0) await Promise.race([this.#source.waitForRecords(250), this.#capacityFreed.wait(250)])
      else await this.#capacityFreed.wait(250)
    }
  }

  #budget(): number {
    let free = 0
    for (const t of this.#group.topics)
      free += Math.max(0, takeLimit(t) - this.#topicLoad.get(t.name)!.inFlight)
    return free
  }

  // ── dispatch ──────────────────────────────────────────────────────────────────────────

  /** Turns taken records into units on lanes; returns how many records were taken. */
  #dispatch(batches: PartitionRecords[]): number {
    const filter = this.#filter
    let taken = 0
    for (const batch of batches) {
      const run = this.#runs.get(partitionKey(batch.topic, batch.partition))
      // Not ours any more (or a seek is pending): the records stay uncommitted and come back.
      if (!run?.active || run.revoking || run.seekTo !== undefined) continue
      const topic = run.topic
      const units = topic.batchHandler ? new Map<string, Unit>() : undefined
      const progress = run.progress
      for (const record of batch.records) {
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
          else units.set(key, new Unit(this, run, key, record, wrapped))
        } else {
          this.#enqueue(new Unit(this, run, lane, record, wrapped))
        }
      }
      if (units) for (const unit of units.values()) this.#enqueue(unit)
    }
    return taken
  }

  /** A throwing filter must not stop the partition: the record is processed (at-least-once). */
  #accepts(filter: RecordFilter, run: PartitionRun, record: ConsumedRecord<unknown>): boolean {
    try {
      return filter(record)
    } catch (error) {
      this.#reportRecordError('consumer.filter.error', error, run, record.offset)
      return true
    }
  }

  #enqueue(unit: Unit): void {
    const n = unit.size
    unit.run.inFlight += n
    this.#inFlight += n
    unit.run.load.inFlight += n
    const inFlight = unit.run.load.inFlight
    // Several topics share one member: pause a topic that reached its capacity.
    if (this.#topics.size > 1 && inFlight >= takeLimit(unit.run.topic))
      this.#pauseTopic(unit.run.topic.name, true)
    this.#scheduler.enqueue(unit.lane, unit)
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
      this.#reportRecordError('virtual_partitions.partitioner.error', error, run, record.offset)
      return run.laneKey(0)
    }
    let lane = 0
    try {
      lane = vp.reducer(value, vp.maxPartitions)
      if (!Number.isInteger(lane) || lane < 0 || lane >= vp.maxPartitions) {
        throw new RangeError(`reducer returned ${lane}; expected an integer in [0, ${vp.maxPartitions})`)
      }
    } catch (error) {
      this.#reportRecordError('virtual_partitions.reducer.error', error, run, record.offset)
      lane = 0
    }
    return run.laneKey(lane)
  }

  // ── execution ─────────────────────────────────────────────────────────────────────────

  /** Runs a unit's handler; synchronous handlers complete without a promise. */
  #execute(unit: Unit): UnitOutcome | Promise<UnitOutcome> {
    const { run } = unit
    if (!run.active) {
      // Revoked or lost: the records stay unfinished in the old tracker and are redelivered.
      this.#release(unit)
      return DONE
    }
    if (unit.dlqPending) return this.#deadLetter(unit, unit.dlqPending)
    unit.attempt++
    const topic = run.topic
    // Handler time is only measured when someone listens to consumer.consumed.
    const started = this.#events.listening('consumer.consumed') ? performance.now() : -1
    let result: unknown
    try {
      result = topic.handler
        ? topic.handler(unit.wrappedRecord, unit)
        : topic.batchHandler!(unit.wrapped(), unit)
    } catch (error) {
      return this.#afterFailure(unit, error)
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        () => this.#afterSuccess(unit, started),
        (error: unknown) => this.#afterFailure(unit, error),
      )
    }
    return this.#afterSuccess(unit, started)
  }

  #afterSuccess(unit: Unit, started: number): UnitOutcome {
    if (unit.run.active) this.#succeeded(unit, started < 0 ? 0 : performance.now() - started)
    this.#release(unit)
    return DONE
  }

  #afterFailure(unit: Unit, error: unknown): UnitOutcome | Promise<UnitOutcome> {
    if (!unit.run.active) {
      this.#release(unit)
      return DONE
    }
    return this.#failed(unit, error instanceof Error ? error : new Error(String(error)))
  }

  #succeeded(unit: Unit, durationMs: number): void {
    const { run } = unit
    // Non-independent failure counting (Karafka's default) spans the lane's retry period: it
    // ends when the lane has run dry without an error, like a batch passing in Karafka.
    if (unit.lane !== null && this.#scheduler.queued(unit.lane) <= 1) run.laneFailures.delete(unit.lane)
    if (unit.size === 1) this.#finishRecord(run, unit.record.offset)
    else for (const r of unit.records()) this.#finishRecord(run, r.offset)
    if (this.#events.listening('consumer.consumed')) {
      for (const r of unit.records()) {
        this.#events.emit('consumer.consumed', {
          consumerGroup: this.#group.name,
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          durationMs,
          attempts: unit.attempt,
        })
      }
    }
  }

  /** A record's handler is through: done, unless manual offsets wait for a mark. */
  #finishRecord(run: PartitionRun, offset: number): void {
    if (!run.topic.manualOffsets || offset <= run.markedUpTo) {
      run.progress.complete(offset)
      return
    }
    run.finishedUnmarked.push(offset)
  }

  async #failed(unit: Unit, error: Error): Promise<UnitOutcome> {
    const { run } = unit
    const topic = run.topic
    const dlq = topic.deadLetterQueue
    // Karafka semantics: `independent` counts per record; otherwise consecutive failures of a lane.
    let failures = unit.attempt
    if (dlq && !dlq.independent && unit.lane !== null) {
      failures = (run.laneFailures.get(unit.lane) ?? 0) + 1
      run.laneFailures.set(unit.lane, failures)
    }
    const type =
      error instanceof DeserializationError ? 'consumer.deserializer.error' : 'consumer.handler.error'
    this.#reportRecordError(type, error, run, unit.record.offset, unit.attempt)
    const { maxRetries, backoff } = topic.retries
    if (failures > maxRetries) {
      if (dlq) return this.#deadLetter(unit, error)
      this.#reportRecordError('consumer.retries_exhausted', error, run, unit.record.offset, unit.attempt)
    }
    return { done: false, retryAfterMs: backoffDelay(failures, backoff) }
  }

  async #deadLetter(unit: Unit, error: Error): Promise<UnitOutcome> {
    const { run } = unit
    const dlq = run.topic.deadLetterQueue!
    try {
      await this.#deadLetters.dispatch(dlq.topic, unit.records(), this.#group.name, unit.attempt, error)
    } catch (dispatchError) {
      unit.dlqPending = error
      this.#reportRecordError('dead_letter_queue.dispatch.error', dispatchError, run, unit.record.offset)
      return { done: false, retryAfterMs: backoffDelay(2, run.topic.retries.backoff) }
    }
    unit.dlqPending = undefined
    if (unit.lane !== null) run.laneFailures.delete(unit.lane)
    if (run.active) {
      for (const r of unit.records()) {
        this.#finishRecord(run, r.offset)
        this.#events.emit('dead_letter_queue.dispatched', {
          consumerGroup: this.#group.name,
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          deadLetterTopic: dlq.topic,
          attempts: unit.attempt,
          error,
        })
      }
    }
    this.#release(unit)
    return { done: true }
  }

  /** The unit's records leave the in-flight count (finished, dead-lettered, or abandoned). */
  #release(unit: Unit): void {
    const n = unit.size
    const { run } = unit
    run.inFlight -= n
    this.#inFlight -= n
    run.load.inFlight -= n
    const inFlight = run.load.inFlight
    if (this.#topics.size > 1 && inFlight < takeLimit(run.topic)) this.#pauseTopic(run.topic.name, false)
    if (run.inFlight === 0) {
      run.idle.notify()
      if (run.seekTo !== undefined && run.active) this.#applySeek(run)
    }
    this.#capacityFreed.notify()
  }

  #reportRecordError(
    type:
      | 'consumer.handler.error'
      | 'consumer.deserializer.error'
      | 'consumer.retries_exhausted'
      | 'consumer.filter.error'
      | 'virtual_partitions.partitioner.error'
      | 'virtual_partitions.reducer.error'
      | 'dead_letter_queue.dispatch.error',
    error: unknown,
    run: PartitionRun,
    offset: number,
    attempt?: number,
  ): void {
    this.#events.emit('error.occurred', {
      type,
      error: error instanceof Error ? error : new Error(String(error)),
      consumerGroup: this.#group.name,
      topic: run.topic.name,
      partition: run.partition,
      offset,
      attempt,
    })
  }

  // ── partition control (from handler contexts) ─────────────────────────────────────────

  pausePartition(run: PartitionRun, reason: PauseReason, paused: boolean): void {
    const had = run.pauseReasons.size > 0
    if (paused) run.pauseReasons.add(reason)
    else run.pauseReasons.delete(reason)
    const has = run.pauseReasons.size > 0
    if (had === has || !run.active) return
    const tp = [{ topic: run.topic.name, partition: run.partition }]
    if (has) this.#source.pause(tp)
    else this.#source.resume(tp)
  }

  #pauseTopic(topic: string, paused: boolean): void {
    for (const run of this.#runs.values())
      if (run.topic.name === topic) this.pausePartition(run, 'capacity', paused)
  }

  markAsConsumed(run: PartitionRun, offset: number): void {
    if (!run.active) return
    run.markedUpTo = Math.max(run.markedUpTo, offset)
    const rest: number[] = []
    for (const o of run.finishedUnmarked) {
      if (o <= run.markedUpTo) run.progress.complete(o)
      else rest.push(o)
    }
    run.finishedUnmarked = rest
  }

  requestSeek(run: PartitionRun, offset: number): void {
    if (!run.active) return
    run.seekTo = offset
    this.pausePartition(run, 'seek', true)
    // Queued, not started records are dropped now; the seek applies once the running ones finish.
    for (const unit of this.#scheduler.drop((u) => u.run === run)) this.#release(unit)
    if (run.inFlight === 0) this.#applySeek(run)
  }

  #applySeek(run: PartitionRun): void {
    const offset = run.seekTo!
    run.seekTo = undefined
    run.progress = this.#progress.reposition(run.progress, offset)
    run.finishedUnmarked = []
    run.markedUpTo = -1
    this.#source.seek({ topic: run.topic.name, partition: run.partition }, offset)
    this.pausePartition(run, 'seek', false)
  }

  commitPartition(run: PartitionRun): Promise<void> {
    return this.#flush([run])
  }

  // ── commits ───────────────────────────────────────────────────────────────────────────

  #flushAll(): Promise<void> {
    // One flush at a time; a tick that finds one running skips.
    if (this.#flushing) return this.#flushing
    this.#flushing = this.#flush([...this.#runs.values()]).finally(() => {
      this.#flushing = undefined
    })
    return this.#flushing
  }

  #flush(runs: readonly PartitionRun[]): Promise<void> {
    return this.#progress.flush(runs.flatMap((run) => (run.active ? [run.progress] : [])))
  }

  // ── assignment ────────────────────────────────────────────────────────────────────────

  #onAssigned(partitions: AssignedPartition[]): void {
    for (const p of partitions) {
      const topic = this.#topics.get(p.topic)
      if (!topic) continue
      const key = partitionKey(p.topic, p.partition)
      const run = new PartitionRun(topic, this.#topicLoad.get(p.topic)!, p.partition, key)
      run.progress = this.#progress.open(
        {
          topic: p.topic,
          partition: p.partition,
          holdIntake: (held) => this.pausePartition(run, 'progress', held),
        },
        p,
      )
      this.#runs.set(key, run)
      if (this.#topics.size > 1 && run.load.inFlight >= takeLimit(topic)) {
        this.pausePartition(run, 'capacity', true)
      }
    }
    this.#events.emit('partitions.assigned', {
      consumerGroup: this.#group.name,
      partitions: strip(partitions),
    })
  }

  async #onRevoked(partitions: TopicPartition[], reason: RevokeReason): Promise<void> {
    const runs = partitions.flatMap((p) => this.#runs.get(partitionKey(p.topic, p.partition)) ?? [])
    for (const run of runs) run.revoking = true
    // Records not started yet are left to the next owner (they stay uncommitted).
    const dropped = this.#scheduler.drop((u) => runs.includes(u.run))
    for (const unit of dropped) this.#release(unit)
    if (reason !== 'lost') {
      const deadline =
        reason === 'closing' ? this.#app.shutdownTimeoutMs : this.#group.settings.revokeTimeoutMs
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(runs.map((r) => r.whenIdle())),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, deadline)
        }),
      ])
      clearTimeout(timer)
      await this.#flush(runs)
    }
    for (const run of runs) {
      run.active = false
      run.controller.abort()
      this.#runs.delete(run.key)
    }
    this.#events.emit('partitions.revoked', {
      consumerGroup: this.#group.name,
      partitions: strip(partitions),
      reason,
    })
  }

  // ── statistics ────────────────────────────────────────────────────────────────────────

  #emitStatistics(): void {
    if (!this.#events.listening('statistics.emitted')) return
    const stats = this.#source.stats()
    this.#events.emit('statistics.emitted', {
      consumerGroup: this.#group.name,
      partitions: stats.map((s) => {
        const run = this.#runs.get(partitionKey(s.topic, s.partition))
        return {
          topic: s.topic,
          partition: s.partition,
          lag: s.lag,
          buffered: s.buffered,
          inFlight: run?.inFlight ?? 0,
          committed: run?.progress.committedOffset ?? -1,
          paused: s.paused,
        }
      }),
    })
  }

  /** Used by handler contexts. */
  get logger(): Logger {
    return this.#logger
  }
}

/** Records of a topic that may be taken and unfinished: running (≤ capacity) plus waiting in lanes. */
function takeLimit(topic: TopicDefinition): number {
  const { capacity, ordering } = topic.processing
  return ordering === 'unordered' ? capacity : capacity * LANE_LOOKAHEAD_FACTOR
}

const DONE: UnitOutcome = { done: true }

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}

function strip(partitions: TopicPartition[]): TopicPartition[] {
  return partitions.map((p) => ({ topic: p.topic, partition: p.partition }))
}
