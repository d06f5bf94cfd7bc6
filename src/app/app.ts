import { type Logger, pino } from 'pino'
import { MultilaneError } from '../errors.ts'
import { EventBus, type EventName, type MultilaneEvents } from '../instrumentation/events.ts'
import { createConsumerGroupRuntime } from '../processing/consumer-group-runtime.ts'
import { DeadLetterQueueProducer } from '../processing/dead-letter-queue.ts'
import type { ProcessingRuntime } from '../processing/processing-runtime.ts'
import { AppBuilder, type ConsumerGroupBuilder } from './app-builder.ts'
import type { AppDefinition } from './definition.ts'
import type { AppOptions } from './options/app.ts'

/** A multilane application: consumer groups, their topics and handlers, and the events they emit. */
export class App {
  readonly #builder: AppBuilder
  readonly #events = new EventBus()
  readonly #logger: Logger
  #runtimes: ProcessingRuntime[] = []
  #deadLetters: DeadLetterQueueProducer | undefined
  #state: 'defining' | 'starting' | 'running' | 'stopping' | 'stopped' = 'defining'
  #stopping: Promise<void> | undefined

  constructor(options: AppOptions) {
    this.#builder = new AppBuilder(options)
    // The builder has validated the logger option (a pino-compatible object, false, or unset).
    const logger = this.#builder.logger
    this.#logger =
      logger === false
        ? pino({ enabled: false })
        : ((logger as Logger | undefined) ??
          pino({ name: 'multilane', level: process.env.MULTILANE_LOG_LEVEL ?? 'info' }))
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

  get logger(): Logger {
    return this.#logger
  }

  /** Joins every consumer group and starts processing. */
  async start(): Promise<void> {
    if (this.#state !== 'defining')
      throw new MultilaneError('APP_ALREADY_STARTED', `the app is ${this.#state}; start it once`)
    this.#state = 'starting'
    const definition = this.definition()
    if (definition.consumerGroups.length === 0) {
      throw new MultilaneError(
        'NO_CONSUMER_GROUP',
        'the app defines no consumer group: call app.consumerGroup(name, (g) => g.topic(…)) before start',
      )
    }
    this.#deadLetters = new DeadLetterQueueProducer(definition.settings.kafka)
    this.#runtimes = definition.consumerGroups.map((group) =>
      createConsumerGroupRuntime({
        group,
        app: definition.settings,
        events: this.#events,
        logger: this.#logger,
        deadLetters: this.#deadLetters!,
      }),
    )
    try {
      await Promise.all(this.#runtimes.map((r) => r.start()))
    } catch (error) {
      await this.stop()
      throw error
    }
    this.#state = 'running'
    this.#logger.info({ consumerGroups: this.#runtimes.map((r) => r.name) }, 'multilane started')
  }

  /** Graceful shutdown: stop taking records, finish in-flight ones (up to shutdownTimeoutMs), commit, leave. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopping'
      await Promise.allSettled(this.#runtimes.map((r) => r.stop()))
      await this.#deadLetters?.close()
      this.#state = 'stopped'
      this.#logger.info('multilane stopped')
    })()
    return this.#stopping
  }

  /**
   * Starts and runs until SIGINT or SIGTERM, then shuts down gracefully. A second signal
   * exits at once (exit code 130).
   */
  async run(): Promise<void> {
    let signalled = false
    let wake!: () => void
    const stopped = new Promise<void>((resolve) => {
      wake = resolve
    })
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        this.#logger.warn({ signal }, 'second signal: exiting without waiting')
        process.exit(130)
      }
      signalled = true
      this.#logger.info({ signal }, 'shutting down: finishing in-flight records')
      wake()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      await this.start()
      await stopped
    } finally {
      await this.stop()
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

/** Creates an application; see docs/configuration.md for the options. */
export function createApp(options: AppOptions): App {
  return new App(options)
}
