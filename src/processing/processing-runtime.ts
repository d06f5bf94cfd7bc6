import type { Logger } from 'pino'
import type { AssignedPartition, PositionReset, RevokeReason, TopicPartition } from '../engine/types.ts'
import { partitionKey } from '../engine/types.ts'
import { MultilaneError } from '../errors.ts'
import type { EventBus } from '../instrumentation/events.ts'
import type { UnitInstrumentation } from '../instrumentation/tracing.ts'
import { CommitSchedule } from './commit-schedule.ts'
import { Dispatcher, type RecordFilter } from './dispatcher.ts'
import type { FailurePolicy } from './failure-policy.ts'
import type { ConsumerGroupInfo } from './group-info.ts'
import { IntakeBudget } from './intake-budget.ts'
import { LaneScheduler } from './lane-scheduler.ts'
import { PartitionControl } from './partition-control.ts'
import { PartitionRun } from './partition-run.ts'
import type { Progress } from './progress.ts'
import type { RecordSource, SourceHooks } from './record-source.ts'
import { RevocationDrain } from './revocation-drain.ts'
import { partitionStatistics, partitionsHealth, type RuntimeHealth } from './runtime-health.ts'
import type { RuntimeGroup, RuntimeTopic } from './runtime-input.ts'
import { runBlocking, runContinuous, type StyleHost } from './styles.ts'
import { TimeSlice } from './time-slice.ts'
import { UnitExecutor } from './unit-executor.ts'
import type { WorkUnit } from './work-unit.ts'

export type { RecordFilter } from './dispatcher.ts'
export type { RuntimeHealth } from './runtime-health.ts'

export interface ProcessingRuntimeOptions {
  member: RuntimeGroup
  events: EventBus
  logger: Logger
  /** Builds the record source; it reports assignment changes and failures through `hooks`. */
  source(hooks: SourceHooks): RecordSource
  /** Reports what is done to the broker (offset commits for a consumer group). */
  progress: Progress
  /** Decides what failed units become; `laneQueued` tells how many units the unit's lane holds. */
  failurePolicy(laneQueued: (unit: WorkUnit) => number): FailurePolicy
  filter?: RecordFilter
  /** Called once if the runtime fails for good, after `error.occurred` (type `consumer.fatal`, `fatal: true`). */
  onFatal?(error: Error): void
  /** Tracing of handler attempts. */
  instrument?: UnitInstrumentation
}

/**
 * Runs one group member's processing: takes records from its source, filters them,
 * dispatches them to handlers under the topic's ordering and capacity, has failures handled
 * by its failure policy, and tells its progress what is done, which reports it to the broker.
 * Blocking and continuous styles share all of it and differ only in when records are taken
 * and when progress is flushed. The runtime keeps the lifecycle and the assignment; how many
 * records it may take is its {@link IntakeBudget}'s to say, what handlers do to their
 * partition goes to its {@link PartitionControl}, and partitions leaving drain in its
 * {@link RevocationDrain}.
 */
export class ProcessingRuntime implements StyleHost {
  readonly group: ConsumerGroupInfo
  readonly #member: RuntimeGroup
  readonly #source: RecordSource
  readonly #progress: Progress
  readonly #events: EventBus
  readonly #logger: Logger
  readonly #topics = new Map<string, RuntimeTopic>()
  readonly #runs = new Map<string, PartitionRun>()
  /** One per topic: `capacity` bounds each topic's running handlers on its own. */
  readonly #schedulers = new Map<string, LaneScheduler<WorkUnit>>()
  readonly #dispatcher: Dispatcher
  readonly #executor: UnitExecutor
  readonly #budget: IntakeBudget
  readonly #control: PartitionControl
  readonly #drain: RevocationDrain
  /** Shared by the dispatcher and every scheduler: this member's synchronous work yields once it is spent. */
  readonly #slice = new TimeSlice()
  readonly #style: 'blocking' | 'continuous'
  readonly #onFatal: ((error: Error) => void) | undefined
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new'
  #failure: Error | undefined
  #loop: Promise<void> | undefined
  #stopping: Promise<void> | undefined
  /** Continuous style: commits on progress and on time. */
  readonly #commits: CommitSchedule | undefined
  #statsTimer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined

  constructor(options: ProcessingRuntimeOptions) {
    const member = options.member
    this.#member = member
    this.group = member.group
    this.#events = options.events
    this.#logger = options.logger.child({ consumerGroup: member.label })
    this.#onFatal = options.onFatal
    for (const t of member.topics) this.#topics.set(t.name, t)
    this.#style = member.topics[0]!.processing.style
    const schedulers = this.#schedulers
    this.#budget = new IntakeBudget({
      style: this.#style,
      topics: member.topics,
      runs: this.#runs,
      drained: (run) => this.#control.drained(run),
    })
    const executor = new UnitExecutor({
      group: this.group,
      events: this.#events,
      policy: options.failurePolicy((unit) => schedulers.get(unit.run.topic.name)!.queued(unit.lane!)),
      budget: this.#budget,
      instrument: options.instrument,
      finished: (count) => this.#commits?.finished(count),
    })
    this.#executor = executor
    this.#commits =
      this.#style === 'continuous'
        ? new CommitSchedule({
            intervalMs: Math.min(...member.topics.map((t) => t.processing.commitIntervalMs)),
            afterRecords: Math.min(
              ...member.topics.map((t) => t.processing.commitAfterRecords ?? Number.POSITIVE_INFINITY),
            ),
            flush: () => this.flush(),
          })
        : undefined
    for (const t of member.topics) {
      const hooks = {
        run: (unit: WorkUnit) => executor.execute(unit),
        // A bug in the runtime: stop rather than loop or lose the records silently.
        failed: (unit: WorkUnit, error: unknown) => {
          executor.abandon(unit)
          this.#fail(error instanceof Error ? error : new Error(String(error)))
        },
      }
      schedulers.set(t.name, new LaneScheduler(t.processing.capacity, this.#budget, hooks, this.#slice))
    }
    this.#progress = options.progress
    this.#source = options.source({
      onAssigned: (partitions) => this.#onAssigned(partitions),
      onRevoked: (partitions, reason) => this.#onRevoked(partitions, reason),
      onPositionReset: (reset) => this.#onPositionReset(reset),
      onFatal: (error) => this.#fail(error),
    })
    this.#control = new PartitionControl({
      group: this.group,
      label: member.label,
      logger: this.#logger,
      source: this.#source,
      progress: this.#progress,
      budget: this.#budget,
      schedulers,
      executor,
    })
    this.#drain = new RevocationDrain({
      member,
      events: this.#events,
      logger: this.#logger,
      progress: this.#progress,
      control: this.#control,
      running: () => this.running,
    })
    this.#dispatcher = new Dispatcher({
      group: this.group,
      events: this.#events,
      filter: options.filter,
      runOf: (key) => this.#runs.get(key),
      unitHost: this.#control,
      budget: this.#budget,
      schedulers,
      slice: this.#slice,
      running: () => this.running,
      applyReset: (run) => this.#applyReset(run, run.pendingReset!),
    })
  }

  /** How logs name this member. */
  get name(): string {
    return this.#member.label
  }

  /** The error that stopped this runtime for good, if any. */
  get failure(): Error | undefined {
    return this.#failure
  }

  /** Joins the group and starts processing. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new MultilaneError('RUNTIME_STARTED', 'a processing runtime starts once')
    this.#state = 'starting'
    await this.#source.start()
    // Stopped (or failed) while joining: do not start the loops.
    if (this.#state !== 'starting') return
    this.#state = 'running'
    this.#commits?.start()
    if (this.#member.statisticsIntervalMs > 0) {
      this.#statsTimer = setInterval(() => this.#emitStatistics(), this.#member.statisticsIntervalMs)
    }
    const loop =
      this.#style === 'blocking'
        ? runBlocking(this, Math.max(...this.#member.topics.map((t) => t.processing.maxPollRecords)))
        : runContinuous(this)
    // No loop promise goes unobserved: anything it throws stops the runtime as a fatal error.
    this.#loop = loop.catch((error: unknown) =>
      this.#fail(error instanceof Error ? error : new Error(String(error))),
    )
  }

  /**
   * Graceful stop: take nothing new, let in-flight records finish (up to `shutdownTimeoutMs`),
   * commit what is done, leave the group. Resolves within `shutdownTimeoutMs` plus a few
   * seconds however the handlers behave; nothing of the runtime keeps the process alive after.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<void> {
    this.#state = 'stopping'
    this.#source.interruptWait()
    this.#budget.wake()
    // A revocation draining now gets no more than the shutdown's own deadline.
    this.#drain.cutAfter(this.#member.shutdownTimeoutMs)
    await this.#loop
    this.#commits?.stop()
    clearInterval(this.#statsTimer)
    try {
      await this.#source.close()
    } finally {
      this.#drain.clearCutTimer()
      // Whatever is still queued or waiting for a retry is abandoned (delivered again later).
      for (const scheduler of this.#schedulers.values())
        for (const unit of scheduler.close()) this.#executor.abandon(unit)
      this.#state = 'stopped'
    }
  }

  /**
   * Why the graceful stop did not end cleanly, once stopped: the closing commit failed
   * (COMMIT_FAILED), or records still running at `shutdownTimeoutMs` were abandoned
   * (SHUTDOWN_TIMEOUT). Undefined after a clean stop, and after a fatal error (that is the failure).
   */
  get stopFailure(): Error | undefined {
    return this.#failure ? undefined : this.#drain.stopFailure
  }

  /** Stops for good: reported once, then the owner (the app) is told. */
  #fail(error: Error): void {
    if (this.#failure || this.#state === 'stopped') return
    this.#failure = error
    this.#events.emit('error.occurred', {
      type: 'consumer.fatal',
      error,
      consumerGroup: this.group.name,
      fatal: true,
    })
    if (this.#state === 'starting' || this.#state === 'running') this.#state = 'stopping'
    // Partitions being drained are as good as lost: nothing more is committed for them.
    this.#drain.fail()
    this.#source.interruptWait()
    this.#budget.wake()
    this.#onFatal?.(error)
  }

  // ── StyleHost ───────────────────────────────────────────────────────────────────────────

  get running(): boolean {
    return this.#state === 'running'
  }

  get inFlight(): number {
    return this.#budget.inFlight
  }

  budget(): number {
    return this.#budget.free()
  }

  takeAndDispatch(max: number): number | Promise<number> {
    const budget = this.#budget
    const batches = this.#source.takeRecords(max, budget.limit)
    let taken = 0
    for (const b of batches) taken += b.records.length
    let dispatched: number | Promise<number>
    try {
      dispatched = this.#dispatcher.dispatch(batches)
    } catch (error) {
      budget.endTake()
      throw error
    }
    if (typeof dispatched === 'number') {
      budget.endTake()
      return taken
    }
    return dispatched.then(() => taken).finally(() => budget.endTake())
  }

  /** Flushes the progress of every partition (one flush at a time); never rejects. */
  flush(): Promise<void> {
    // A tick that finds one running skips.
    if (this.#flushing) return this.#flushing
    this.#flushing = this.#drain.flush([...this.#runs.values()]).finally(() => {
      this.#flushing = undefined
    })
    return this.#flushing
  }

  waitForRecords(timeoutMs: number): Promise<void> {
    return this.#source.waitForRecords(timeoutMs)
  }

  waitForCapacity(timeoutMs: number): Promise<void> {
    return this.#budget.waitForCapacity(timeoutMs)
  }

  // ── assignment ────────────────────────────────────────────────────────────────────────

  #onAssigned(partitions: AssignedPartition[]): void {
    for (const p of partitions) {
      const topic = this.#topics.get(p.topic)
      if (!topic) continue
      const key = partitionKey(p.topic, p.partition)
      const previous = this.#runs.get(key)
      if (previous) this.#retire(previous)
      const run = new PartitionRun(topic, this.#budget.loadOf(p.topic), p.partition, key)
      run.progress = this.#progress.open(
        { topic: p.topic, partition: p.partition, intakeFreed: () => this.#budget.wake() },
        p,
      )
      this.#runs.set(key, run)
    }
    this.#events.emit('partitions.assigned', {
      consumerGroup: this.group.name,
      partitions: strip(partitions),
    })
    this.#budget.wake()
  }

  async #onRevoked(partitions: TopicPartition[], reason: RevokeReason): Promise<void> {
    const runs = partitions.flatMap((p) => this.#runs.get(partitionKey(p.topic, p.partition)) ?? [])
    if (reason !== 'lost') await this.#drain.drain(runs, reason)
    for (const run of runs) this.#retire(run)
    this.#events.emit('partitions.revoked', {
      consumerGroup: this.group.name,
      partitions: strip(partitions),
      reason,
    })
  }

  /** The run ends: handlers see `signal` abort, its queued records are abandoned, its drain ends. */
  #retire(run: PartitionRun): void {
    if (!run.active) return
    run.active = false
    run.controller.abort()
    this.#control.abandonQueued(run)
    run.idle.notify()
    // Only this run: the partition may have been assigned back meanwhile, with a new one.
    if (this.#runs.get(run.key) === run) this.#runs.delete(run.key)
  }

  #onPositionReset(reset: PositionReset): void {
    const run = this.#runs.get(partitionKey(reset.topic, reset.partition))
    if (!run?.active) return
    // Records of a batch the dispatcher is part-way through were taken from the fetcher (they
    // are not among the buffered ones the reset gave up) and will not be fetched again: those
    // below the new position are dispatched into the old progress first.
    if (run.dispatching) {
      run.pendingReset = reset
      return
    }
    this.#applyReset(run, reset)
  }

  #applyReset(run: PartitionRun, reset: PositionReset): void {
    run.pendingReset = undefined
    if (!run.active) return
    // Records taken from `to` on come again from the new position: those not started are
    // dropped. The others (running, or below `to`) finish into the old progress, and commits
    // stay below them until they do; everything from `to` on is tracked anew.
    this.#control.abandonQueued(run, reset.to)
    run.progress = this.#progress.reposition(run.progress, reset.to, true)
    this.#events.emit('partitions.position_reset', { consumerGroup: this.group.name, ...reset })
    this.#budget.wake()
  }

  // ── statistics ────────────────────────────────────────────────────────────────────────

  #emitStatistics(): void {
    if (!this.#events.listening('statistics.emitted')) return
    this.#events.emit('statistics.emitted', {
      consumerGroup: this.group.name,
      partitions: this.#source
        .stats()
        .map((s) => partitionStatistics(s, this.#runs.get(partitionKey(s.topic, s.partition)))),
    })
  }

  /** This member's state and, per assigned partition, how long its oldest record has been in flight (`now`: `performance.now()` ms, the clock units are stamped with). */
  health(now = performance.now()): RuntimeHealth {
    return {
      group: this.group.name,
      label: this.name,
      state: this.#state,
      failure: this.#failure,
      partitions: partitionsHealth(this.#runs.values(), now),
    }
  }
}

function strip(partitions: readonly TopicPartition[]): TopicPartition[] {
  return partitions.map((p) => ({ topic: p.topic, partition: p.partition }))
}
