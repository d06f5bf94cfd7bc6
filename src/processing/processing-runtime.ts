import type { Logger } from 'pino'
import type { AssignedPartition, PositionReset, RevokeReason, TopicPartition } from '../engine/types.ts'
import { partitionKey } from '../engine/types.ts'
import { MultilaneError } from '../errors.ts'
import type { EventBus } from '../instrumentation/events.ts'
import type { UnitInstrumentation } from '../instrumentation/tracing.ts'
import { Dispatcher, type RecordFilter } from './dispatcher.ts'
import type { FailurePolicy } from './failure-policy.ts'
import { IntakeBudget } from './intake-budget.ts'
import { LaneScheduler } from './lane-scheduler.ts'
import { PartitionRun } from './partition-run.ts'
import type { FlushOptions, Progress } from './progress.ts'
import type { RecordSource, SourceHooks } from './record-source.ts'
import type { ConsumerGroupInfo, RuntimeGroup, RuntimeTopic } from './runtime-input.ts'
import { runBlocking, runContinuous, type StyleHost } from './styles.ts'
import { TimeSlice } from './time-slice.ts'
import { UnitExecutor } from './unit-executor.ts'
import type { UnitHost, WorkUnit } from './work-unit.ts'

export type { RecordFilter } from './dispatcher.ts'

/** The commit at shutdown gets this long; a broker that does not answer must not hold the process. */
const CLOSE_COMMIT_TIMEOUT_MS = 3000

/** A member's health as `App.health()` reads it. */
export interface RuntimeHealth {
  /** The Kafka group (a segment's own group name). */
  group: string
  /** How logs name the member. */
  label: string
  state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped'
  failure: Error | undefined
  partitions: Array<{ topic: string; partition: number; inFlight: number; oldestInFlightMs: number }>
}

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
 * and when progress is flushed. How many records it may take is its {@link IntakeBudget}'s
 * to say; the runtime keeps the lifecycle and the assignment.
 */
export class ProcessingRuntime implements UnitHost, StyleHost {
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
  /** Shared by the dispatcher and every scheduler: this member's synchronous work yields once it is spent. */
  readonly #slice = new TimeSlice()
  readonly #style: 'blocking' | 'continuous'
  readonly #onFatal: ((error: Error) => void) | undefined
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new'
  #failure: Error | undefined
  #loop: Promise<void> | undefined
  #stopping: Promise<void> | undefined
  #commitTimer: NodeJS.Timeout | undefined
  #statsTimer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  /** Ends every revocation drain early: at the shutdown deadline after stop(), at once on a fatal error. */
  readonly #drainCut: { promise: Promise<void>; resolve: () => void }
  #drainCutTimer: NodeJS.Timeout | undefined
  /** Why the graceful stop did not end cleanly (see stopFailure). */
  #stopFailure: Error | undefined

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
      drained: (run) => {
        if (run.seekTo !== undefined && run.active && !run.revoking) this.#applySeek(run)
      },
    })
    const executor = new UnitExecutor({
      group: this.group,
      events: this.#events,
      policy: options.failurePolicy((unit) => schedulers.get(unit.run.topic.name)!.queued(unit.lane!)),
      budget: this.#budget,
      instrument: options.instrument,
    })
    this.#executor = executor
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
    this.#dispatcher = new Dispatcher({
      group: this.group,
      events: this.#events,
      filter: options.filter,
      runOf: (key) => this.#runs.get(key),
      unitHost: this,
      budget: this.#budget,
      schedulers,
      slice: this.#slice,
      running: () => this.running,
    })
    let cut!: () => void
    this.#drainCut = { promise: new Promise<void>((resolve) => (cut = resolve)), resolve: cut }
    this.#progress = options.progress
    this.#source = options.source({
      onAssigned: (partitions) => this.#onAssigned(partitions),
      onRevoked: (partitions, reason) => this.#onRevoked(partitions, reason),
      onPositionReset: (reset) => this.#onPositionReset(reset),
      onFatal: (error) => this.#fail(error),
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
    if (this.#style === 'continuous') {
      const interval = Math.min(...this.#member.topics.map((t) => t.processing.commitIntervalMs))
      this.#commitTimer = setInterval(() => void this.flush(), interval)
    }
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
    this.#drainCutTimer = setTimeout(this.#drainCut.resolve, this.#member.shutdownTimeoutMs)
    await this.#loop
    clearInterval(this.#commitTimer)
    clearInterval(this.#statsTimer)
    try {
      await this.#source.close()
    } finally {
      clearTimeout(this.#drainCutTimer)
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
    return this.#failure ? undefined : this.#stopFailure
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
    this.#drainCut.resolve()
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
    this.#flushing = this.#flushRuns([...this.#runs.values()]).finally(() => {
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

  // ── partition control (from handler contexts) ─────────────────────────────────────────

  /** Removes units that have not started (queued or waiting for a retry) matching `predicate`. */
  #dropUnits(predicate: (unit: WorkUnit) => boolean): WorkUnit[] {
    return [...this.#schedulers.values()].flatMap((s) => s.drop(predicate))
  }

  pausePartition(run: PartitionRun, paused: boolean): void {
    // A share member cannot stop fetching one partition: what it had fetched would sit locked
    // until the locks ran out, and the member would stop taking that partition's records.
    if (!this.#source.pause || !this.#source.resume) {
      throw new MultilaneError(
        'PAUSE_UNSUPPORTED',
        `${this.#member.label}: this group's partitions cannot be paused (a share group shares them with its other members; let the handler wait, or stop the member)`,
      )
    }
    if (run.userPaused === paused || !run.active) return
    run.userPaused = paused
    const tp = [{ topic: run.topic.name, partition: run.partition }]
    if (paused) this.#source.pause?.(tp)
    else {
      this.#source.resume?.(tp)
      this.#budget.wake()
    }
  }

  markAsConsumed(run: PartitionRun, offset: number): void {
    if (!run.active) return
    run.markedUpTo = Math.max(run.markedUpTo, offset)
    const rest: PartitionRun['finishedUnmarked'] = []
    for (const f of run.finishedUnmarked) {
      if (f.offset <= run.markedUpTo) f.progress.finish(f.offset, 'succeeded')
      else rest.push(f)
    }
    run.finishedUnmarked = rest
    this.#budget.wake()
  }

  requestSeek(run: PartitionRun, offset: number): void {
    if (!this.#source.seek) {
      throw new MultilaneError(
        'SEEK_UNSUPPORTED',
        `${this.#member.label}: this group's records cannot be sought`,
      )
    }
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new MultilaneError('INVALID_SEEK', `seek offset must be a non-negative integer, got ${offset}`)
    }
    if (!run.active || run.revoking) return
    run.seekTo = offset
    // Queued and retry-waiting records are dropped now (abandoning the last of them may
    // apply the seek already); it applies once the running ones finish.
    this.#abandonQueued(run)
    if (run.inFlight === 0 && run.seekTo !== undefined) this.#applySeek(run)
  }

  #applySeek(run: PartitionRun): void {
    const offset = run.seekTo!
    run.seekTo = undefined
    run.progress = this.#progress.reposition(run.progress, offset)
    run.finishedUnmarked = []
    run.markedUpTo = -1
    this.#source.seek!({ topic: run.topic.name, partition: run.partition }, offset)
    this.#budget.wake()
  }

  #abandonQueued(run: PartitionRun, from = 0): void {
    for (const unit of this.#dropUnits((u) => u.run === run && u.record.offset >= from))
      this.#executor.abandon(unit)
  }

  /** `ctx.commit()`: rejects when the commit failed, or the partition is no longer this member's. */
  async commitPartition(run: PartitionRun): Promise<void> {
    if (!run.active || run.revoking) {
      throw new MultilaneError(
        'PARTITION_NOT_OWNED',
        `${run.topic.name}#${run.partition} is being revoked or was lost: nothing more is committed for it here`,
      )
    }
    await this.#progress.flush([run.progress], { throwOnError: true })
  }

  #flushRuns(runs: readonly PartitionRun[], options?: FlushOptions): Promise<void> {
    const progress = runs.flatMap((run) => (run.active ? [run.progress] : []))
    return this.#progress.flush(progress, options).catch((error: unknown) => {
      this.#events.emit('error.occurred', {
        type: 'consumer.commit.error',
        error: error instanceof Error ? error : new Error(String(error)),
        consumerGroup: this.group.name,
      })
    })
  }

  /**
   * The shutdown's commit: a failure (reported as an event by the progress) fails the stop, since
   * the records handled since the last commit will be delivered again.
   */
  async #closingFlush(runs: readonly PartitionRun[]): Promise<void> {
    const progress = runs.flatMap((run) => (run.active ? [run.progress] : []))
    try {
      await this.#progress.flush(progress, { timeoutMs: CLOSE_COMMIT_TIMEOUT_MS, throwOnError: true })
    } catch (error) {
      this.#stopFailure ??= new MultilaneError(
        'COMMIT_FAILED',
        `consumerGroup "${this.#member.label}": the final commit at shutdown failed (${(error as Error).message}); the records handled since the last commit will be delivered again`,
        { cause: error },
      )
    }
  }

  /**
   * The shutdown's deadline passed with records still running: they are abandoned (delivered
   * again to the next owner). Said once, with how many and where; the stop then fails.
   */
  #reportAbandoned(runs: readonly PartitionRun[]): void {
    const left = runs.filter((r) => r.active && r.inFlight > 0)
    if (left.length === 0) return
    const count = left.reduce((n, r) => n + r.inFlight, 0)
    const partitions = left.map((r) => `${r.topic.name}#${r.partition}`)
    this.#logger.warn(
      { abandoned: count, partitions, shutdownTimeoutMs: this.#member.shutdownTimeoutMs },
      `shutdown: ${count} record(s) still running after shutdownTimeoutMs (${this.#member.shutdownTimeoutMs} ms) abandoned, in ${partitions.join(', ')}; they will be delivered again`,
    )
    this.#stopFailure ??= new MultilaneError(
      'SHUTDOWN_TIMEOUT',
      `consumerGroup "${this.#member.label}": ${count} record(s) still running after shutdownTimeoutMs (${this.#member.shutdownTimeoutMs} ms) were abandoned (${partitions.join(', ')}); they will be delivered again`,
    )
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
    if (reason !== 'lost') {
      for (const run of runs) {
        run.revoking = true
        // A seek on a partition that is leaving is moot.
        run.seekTo = undefined
        // Records not started yet (or waiting for a retry) are left to the next owner.
        this.#abandonQueued(run)
      }
      const deadline = reason === 'closing' ? this.#member.shutdownTimeoutMs : this.#member.revokeTimeoutMs
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(runs.map((r) => r.whenIdle())),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, deadline)
        }),
        this.#drainCut.promise,
      ])
      clearTimeout(timer)
      if (reason === 'closing') this.#reportAbandoned(runs)
      // Partitions lost while draining (the member was fenced, or failed) are not committed.
      if (!this.#failure && reason === 'closing') await this.#closingFlush(runs)
      else if (!this.#failure) {
        await this.#flushRuns(
          runs.filter((r) => r.active),
          { timeoutMs: this.#state !== 'running' ? CLOSE_COMMIT_TIMEOUT_MS : undefined },
        )
      }
    }
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
    this.#abandonQueued(run)
    run.idle.notify()
    // Only this run: the partition may have been assigned back meanwhile, with a new one.
    if (this.#runs.get(run.key) === run) this.#runs.delete(run.key)
  }

  #onPositionReset(reset: PositionReset): void {
    const run = this.#runs.get(partitionKey(reset.topic, reset.partition))
    if (!run?.active) return
    // Records taken from `to` on come again from the new position: those not started are
    // dropped. The others (running, or below `to`) finish into the old progress, and commits
    // stay below them until they do; everything from `to` on is tracked anew.
    this.#abandonQueued(run, reset.to)
    run.progress = this.#progress.reposition(run.progress, reset.to, true)
    this.#events.emit('partitions.position_reset', { consumerGroup: this.group.name, ...reset })
    this.#budget.wake()
  }

  // ── statistics ────────────────────────────────────────────────────────────────────────

  #emitStatistics(): void {
    if (!this.#events.listening('statistics.emitted')) return
    const stats = this.#source.stats()
    this.#events.emit('statistics.emitted', {
      consumerGroup: this.group.name,
      partitions: stats.map((s) => {
        const run = this.#runs.get(partitionKey(s.topic, s.partition))
        return {
          topic: s.topic,
          partition: s.partition,
          lag: s.lag,
          buffered: s.buffered,
          inFlight: run?.inFlight ?? 0,
          committed: run?.progress.committedOffset ?? -1,
          // Not taking records: paused by its handler, repositioning, or held by its progress.
          paused:
            s.paused || (run !== undefined && (!run.takesRecords || run.progress.intakeAllowance() === 0)),
          ...(s.locks === undefined ? {} : { locks: s.locks }),
        }
      }),
    })
  }

  /** This member's state and, per assigned partition, how long its oldest record has been in flight. */
  health(now = Date.now()): RuntimeHealth {
    const partitions: RuntimeHealth['partitions'] = []
    for (const run of this.#runs.values()) {
      if (!run.active) continue
      const oldest = run.takenAt.values().next()
      partitions.push({
        topic: run.topic.name,
        partition: run.partition,
        inFlight: run.inFlight,
        oldestInFlightMs: oldest.done ? 0 : now - oldest.value,
      })
    }
    return {
      group: this.group.name,
      label: this.name,
      state: this.#state,
      failure: this.#failure,
      partitions,
    }
  }

  /** Used by handler contexts. */
  get logger(): Logger {
    return this.#logger
  }
}

function strip(partitions: readonly TopicPartition[]): TopicPartition[] {
  return partitions.map((p) => ({ topic: p.topic, partition: p.partition }))
}
