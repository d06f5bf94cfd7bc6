import { type Logger, pino } from 'pino'
import type { BufferLimits } from '../engine/fetch-options.ts'
import { accountBuffersInHeapLimit } from '../engine/v8-buffer-gc.ts'
import { MultilaneError } from '../errors.ts'
import { attachDefaultLog } from '../instrumentation/default-log.ts'
import { EventBus, type EventName, type MultilaneEvents } from '../instrumentation/events.ts'
import { logFormatFromEnv, multilaneLogger } from '../instrumentation/pretty-log.ts'
import { Tracing } from '../instrumentation/tracing.ts'
import { createConsumerGroupRuntime } from '../processing/consumer-group/runtime.ts'
import { DeadLetterQueueProducer } from '../processing/dead-letter-queue.ts'
import type { ProcessingRuntime } from '../processing/processing-runtime.ts'
import { createShareGroupRuntime } from '../processing/share-group/runtime.ts'
import { AppProducer } from '../producing/app-producer.ts'
import { ProducerClient } from '../producing/producer-client.ts'
import { AppBuilder, type ConsumerGroupBuilder, type ShareGroupBuilder } from './app-builder.ts'
import { waitForCluster } from './cluster-wait.ts'
import { ConfigurationError } from './configuration-error.ts'
import type { AppDefinition, ShareGroupDefinition } from './definition.ts'
import { memberBufferLimits } from './fetch-budget.ts'
import { type AppHealth, FencingWatch, judgeHealth } from './health.ts'
import { checkPlacement, type MemberPlan, membersOf } from './members.ts'
import type { AppOptions } from './options/app.ts'
import { applyShareGroupConfigs, checkDeadLetterTopics } from './start-checks.ts'
import { runStopHooks } from './stop-hooks.ts'

type AppState = 'defining' | 'starting' | 'running' | 'stopping' | 'stopped'

/** How `start()` / `run()` place the app's work in this process. */
export interface StartOptions {
  /**
   * Run only these segment ids of every segmented group (the other processes run the rest);
   * groups without segments run as usual. Default: all segments.
   */
  segments?: readonly number[]
  /**
   * Set by `multilane run --processes` in each worker (its index from 0): a consumer group's
   * `groupInstanceId` becomes `<groupInstanceId>-<worker>` in this process.
   */
  worker?: number
  /**
   * Aborting it asks for the graceful stop like a first SIGTERM, but is not counted as a signal:
   * a SIGTERM arriving as well (a cgroup-wide stop reaching the process directly and through
   * `multilane run`) is still the first signal, not "exit at once". `run()` only.
   */
  stopRequest?: AbortSignal
}

/** Exit codes of a second signal during the graceful drain: 128 + the signal's number. */
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 }

const BUFFER_GC_NOTE =
  "set V8's --external-memory-accounted-in-global-limit for this process (Node 24 otherwise collects fetched Buffers by full mark-compacts; MULTILANE_KEEP_V8_DEFAULTS=1 keeps V8's defaults: docs/operations.md)"

/** A multilane application: consumer groups, their topics and handlers, and the events they emit. */
export class App {
  readonly #builder: AppBuilder
  readonly #events: EventBus
  readonly #logger: Logger
  #runtimes: ProcessingRuntime[] = []
  #deadLetters: DeadLetterQueueProducer | undefined
  /** The app's one producer: `app.producer` and the dead letter queue, closed with the app. */
  #producerClient: ProducerClient | undefined
  #producer: AppProducer | undefined
  /** Off (and not loaded) until start() finds @opentelemetry/api, as `tracing.enabled` says. */
  readonly #tracing: Tracing
  #state: AppState = 'defining'
  #stopping: Promise<void> | undefined
  #failure: Error | undefined
  readonly #failed: { promise: Promise<Error>; resolve: (error: Error) => void }
  readonly #fencing: FencingWatch
  readonly #shareRuntimes = new WeakSet<ProcessingRuntime>()
  readonly #stopHooks: Array<() => unknown> = []
  /** Why the graceful stop failed (a final commit, records abandoned at shutdownTimeoutMs): run() rejects with it. */
  #stopFailure: Error | undefined
  /** Aborted by the first stop(): ends a start's wait for the cluster at once. */
  readonly #stopRequested = new AbortController()

  constructor(options: AppOptions) {
    this.#builder = new AppBuilder(options)
    // The builder has validated the logger option (a pino-compatible object, false, 'pretty', or unset).
    const logger = this.#builder.logger
    this.#logger =
      logger === false
        ? pino({ enabled: false })
        : logger === 'pretty'
          ? multilaneLogger('pretty')
          : ((logger as Logger | undefined) ?? multilaneLogger(logFormat()))
    this.#events = new EventBus({
      onListenerError: (name, error) => this.#logger.error({ err: error, event: name }, error.message),
    })
    attachDefaultLog(this.#events, this.#logger)
    this.#tracing = new Tracing(this.#builder.definition().settings.tracing, this.#events, this.#logger)
    this.#fencing = new FencingWatch(this.#events)
    let resolve!: (error: Error) => void
    this.#failed = { promise: new Promise<Error>((r) => (resolve = r)), resolve }
  }

  /**
   * Defines a share group (KIP-932): its records are shared out to the group's members record by
   * record, each acknowledged on its own. Invalid options throw a ConfigurationError here.
   */
  shareGroup(name: string, configure: (group: ShareGroupBuilder) => void): this {
    if (this.#state !== 'defining') {
      throw new MultilaneError('APP_ALREADY_STARTED', 'share groups must be defined before the app starts')
    }
    this.#builder.shareGroup(name, configure)
    return this
  }

  /** Defines a consumer group; invalid options throw a ConfigurationError here, not at run time. */
  consumerGroup(name: string, configure: (group: ConsumerGroupBuilder) => void): this {
    if (this.#state !== 'defining') {
      throw new MultilaneError('APP_ALREADY_STARTED', 'consumer groups must be defined before the app starts')
    }
    this.#builder.consumerGroup(name, configure)
    return this
  }

  /** The validated definition, defaults applied. */
  definition(): AppDefinition {
    return this.#builder.definition()
  }

  on<K extends EventName>(name: K, listener: (event: MultilaneEvents[K]) => void): this {
    this.#events.on(name, listener)
    return this
  }

  off<K extends EventName>(name: K, listener: (event: MultilaneEvents[K]) => void): this {
    this.#events.off(name, listener)
    return this
  }

  /**
   * Produces records on the app's connection (consume → transform → produce): idempotent,
   * acks=all, the client the dead letter queue uses, closed when the app stops. Usable before
   * start too (then stop the app to close it). See docs/producing.md.
   */
  get producer(): AppProducer {
    this.#producer ??= new AppProducer(this.#sharedProducerClient(), undefined, this.#traceInjector)
    return this.#producer
  }

  /** Trace context for produced records, while tracing is on. */
  readonly #traceInjector = () => (this.#tracing.active ? this.#tracing.injector : undefined)

  #sharedProducerClient(): ProducerClient {
    if (!this.#producerClient) {
      this.#producerClient = new ProducerClient(this.definition().settings.kafka)
      // Asked for after the app stopped: its sends fail with PRODUCER_CLOSED.
      if (this.#state === 'stopped') void this.#producerClient.close()
    }
    return this.#producerClient
  }

  get logger(): Logger {
    return this.#logger
  }

  /** The error that stopped the app (a fatal member error), if any. */
  get failure(): Error | undefined {
    return this.#failure
  }

  /**
   * Joins every consumer group and starts processing. Rejects when a group cannot start (the
   * others are stopped again), or when the app is not new.
   */
  async start(options: StartOptions = {}): Promise<void> {
    if (this.#state !== 'defining')
      throw new MultilaneError('APP_ALREADY_STARTED', `the app is ${this.#state}; start it once`)
    const definition = this.definition()
    const placement = options.segments
    checkPlacement(definition.consumerGroups, placement, definition.shareGroups.length)
    if (options.worker !== undefined && (!Number.isSafeInteger(options.worker) || options.worker < 0)) {
      throw new MultilaneError(
        'INVALID_PLACEMENT',
        `worker must be an integer ≥ 0, got ${String(options.worker)}`,
      )
    }
    this.#state = 'starting'
    try {
      if (definition.consumerGroups.length === 0 && definition.shareGroups.length === 0) {
        throw new MultilaneError(
          'NO_CONSUMER_GROUP',
          'the app defines no group: call app.consumerGroup(name, (g) => g.topic(…)) (or app.shareGroup) before start',
        )
      }
      // Created before the first await, so a stop() from now on sees (and stops) them.
      this.#deadLetters = new DeadLetterQueueProducer(
        definition.settings.kafka,
        this.#sharedProducerClient(),
        this.#traceInjector,
      )
      const plans = definition.consumerGroups.flatMap((group) =>
        membersOf(group, definition.settings, this.#events, placement, options.worker),
      )
      // The process's fetch buffer is split between its members (src/app/fetch-budget.ts).
      const buffer = memberBufferLimits(plans.length)
      // The consumers would set it too; set here first, so the process-wide change is logged once.
      if (accountBuffersInHeapLimit() === 'set') this.#logger.info(BUFFER_GC_NOTE)
      this.#runtimes = [
        ...plans.map((plan) => this.#runtimeOf(definition, plan, buffer)),
        ...definition.shareGroups.map((group) => this.#shareRuntimeOf(definition, group)),
      ]
      // A cluster not reachable yet (restarting, failing over) is waited for, up to kafka.startTimeoutMs.
      await waitForCluster(definition.settings.kafka, this.#logger, this.#stopRequested.signal)
      await this.#tracing.start()
      await checkDeadLetterTopics(definition)
      await applyShareGroupConfigs(definition)
      if (this.#state === 'starting') await Promise.all(this.#runtimes.map((r) => r.start()))
      if (this.#failure) throw this.#failure
    } catch (error) {
      // stop() during start: the start ends quietly, the app is stopped.
      const stopRequested = this.#state !== 'starting' && !this.#failure
      await this.stop()
      if (stopRequested) return
      throw error
    }
    // stop() during start wins: the app stays stopped.
    if (this.#state !== 'starting') return
    this.#state = 'running'
    this.#logger.info({ consumerGroups: this.#runtimes.map((r) => r.name) }, 'multilane started')
  }

  #runtimeOf(definition: AppDefinition, plan: MemberPlan, buffer: BufferLimits): ProcessingRuntime {
    return createConsumerGroupRuntime({
      ...plan,
      kafka: definition.settings.kafka,
      buffer,
      events: this.#events,
      logger: this.#logger,
      deadLetters: this.#deadLetters!,
      onFatal: (error) => this.#fatal(error),
      instrument: this.#tracing,
    })
  }

  #shareRuntimeOf(definition: AppDefinition, group: ShareGroupDefinition): ProcessingRuntime {
    const { settings } = definition
    const runtime = createShareGroupRuntime({
      member: {
        group: { name: group.name, segmentId: -1, segmentOrigin: group.name },
        label: group.name,
        topics: group.topics,
        // Nothing waits for a share partition's drain: it only bounds the shutdown's.
        revokeTimeoutMs: settings.shutdownTimeoutMs,
        shutdownTimeoutMs: settings.shutdownTimeoutMs,
        statisticsIntervalMs: settings.statisticsIntervalMs,
      },
      membership: {
        acquireMode: group.settings.acquireMode,
        maxRecords: Math.max(...group.topics.map((t) => t.processing.maxPollRecords)),
        ...(group.settings.maxRecordLocks === undefined
          ? {}
          : { maxRecordLocks: group.settings.maxRecordLocks }),
      },
      kafka: settings.kafka,
      events: this.#events,
      logger: this.#logger,
      deadLetters: this.#deadLetters!,
      onFatal: (error) => this.#fatal(error),
      instrument: this.#tracing,
    })
    this.#shareRuntimes.add(runtime)
    return runtime
  }

  /**
   * Liveness and readiness, with the reasons, per group member: live until the app fails or
   * stops; ready when it runs and every member fetches, has partitions, is not fenced, and has
   * no partition stuck (a record in flight longer than `health.stuckAfterMs`). See docs/operations.md.
   */
  health(): AppHealth {
    return judgeHealth({
      appState: this.#state,
      failure: this.#failure,
      members: this.#runtimes.map((r) => ({
        health: r.health(),
        kind: this.#shareRuntimes.has(r) ? 'share' : 'consumer',
      })),
      fencing: this.#fencing,
      settings: this.definition().settings.health,
    })
  }

  /** A member failed for good: the whole app stops, and `run()` rejects with the error. */
  #fatal(error: Error): void {
    if (this.#failure) return
    this.#failure = error
    this.#failed.resolve(error)
    void this.stop()
  }

  /**
   * Registers `hook` to run once the app has stopped (records drained, offsets committed, groups
   * left), before `stop()` / `run()` resolve: close what the app module opened, e.g. a `/metrics`
   * server (`app.onStop(() => new Promise((r) => server.close(() => r())))`). Hooks run one after
   * another, in the order registered; a hook that throws is logged and the others still run. Each
   * is waited for up to `shutdownTimeoutMs`: one still pending then is logged and left behind,
   * and `run()` rejects with SHUTDOWN_TIMEOUT (`multilane run` exits 1).
   */
  onStop(hook: () => unknown): this {
    if (typeof hook !== 'function') {
      throw new MultilaneError(
        'INVALID_CONFIGURATION',
        `onStop(hook): hook must be a function, got ${typeof hook}`,
      )
    }
    this.#stopHooks.push(hook)
    return this
  }

  /** Graceful shutdown: stop taking records, finish in-flight ones (up to shutdownTimeoutMs), commit, leave. */
  stop(): Promise<void> {
    this.#stopRequested.abort()
    if (this.#state === 'defining') this.#state = 'stopped'
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<void> {
    if (this.#state === 'stopped') {
      await this.#closeProducer()
      return
    }
    this.#state = 'stopping'
    const results = await Promise.allSettled(this.#runtimes.map((r) => r.stop()))
    results.forEach((result, i) => {
      this.#stopFailure ??=
        result.status === 'rejected' ? (result.reason as Error) : this.#runtimes[i]!.stopFailure
      if (result.status === 'rejected') {
        this.#logger.error(
          { err: result.reason, consumerGroup: this.#runtimes[i]!.name },
          'stopping a consumer group failed',
        )
      }
    })
    try {
      await this.#deadLetters?.close()
    } catch (error) {
      this.#logger.error({ err: error }, 'closing the dead letter producer failed')
    }
    const hookFailure = await runStopHooks(
      this.#stopHooks,
      this.definition().settings.shutdownTimeoutMs,
      this.#logger,
    )
    this.#stopFailure ??= hookFailure
    await this.#closeProducer()
    this.#tracing.stop()
    this.#state = 'stopped'
    this.#logger.info('multilane stopped')
  }

  async #closeProducer(): Promise<void> {
    try {
      await this.#producerClient?.close()
    } catch (error) {
      this.#logger.error({ err: error }, 'closing the producer failed')
    }
  }

  /**
   * Starts and runs until SIGINT or SIGTERM, then shuts down gracefully. Rejects when the app
   * cannot start or a member fails for good (after stopping everything), and when the drain did
   * not end cleanly: its final commit failed (COMMIT_FAILED) or records still running at
   * `shutdownTimeoutMs` were abandoned (SHUTDOWN_TIMEOUT). A second signal
   * exits at once, with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
   */
  async run(options: StartOptions = {}): Promise<void> {
    if (this.#state !== 'defining')
      throw new MultilaneError(
        'APP_ALREADY_STARTED',
        `the app is ${this.#state}; run() starts it, call it once`,
      )
    // Asked to stop before it started: nothing to run.
    if (options.stopRequest?.aborted) return
    let signalled = false
    let wake!: () => void
    const stopped = new Promise<void>((resolve) => {
      wake = resolve
    })
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        this.#logger.warn({ signal }, 'second signal: exiting without waiting')
        process.exit(SIGNAL_EXIT_CODES[signal] ?? 1)
      }
      signalled = true
      this.#logger.info({ signal }, 'shutting down: finishing in-flight records')
      wake()
      // Also ends a start that is still joining.
      void this.stop()
    }
    const onStopRequest = () => {
      this.#logger.info('shutting down (stop requested): finishing in-flight records')
      wake()
      void this.stop()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    options.stopRequest?.addEventListener('abort', onStopRequest, { once: true })
    try {
      await this.start(options)
      const failure = await Promise.race([stopped.then(() => undefined), this.#failed.promise])
      if (failure) throw failure
    } finally {
      await this.stop()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      options.stopRequest?.removeEventListener('abort', onStopRequest)
    }
    if (this.#stopFailure) throw this.#stopFailure
  }
}

/** MULTILANE_LOG's format (default json); a wrong value fails the app's definition, naming the variable. */
function logFormat(): 'json' | 'pretty' {
  try {
    return logFormatFromEnv() ?? 'json'
  } catch (error) {
    throw new ConfigurationError([
      { path: 'MULTILANE_LOG', message: (error as Error).message.replace(/^MULTILANE_LOG: /, '') },
    ])
  }
}

/** Creates an application; see docs/configuration.md for the options. */
export function createApp(options: AppOptions): App {
  return new App(options)
}
