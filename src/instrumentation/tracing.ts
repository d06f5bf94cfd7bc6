/**
 * OpenTelemetry tracing through `@opentelemetry/api`, an optional peer dependency: loaded with a
 * dynamic import when the app starts, so an app without it (or with tracing off) loads and
 * allocates nothing for it. When on:
 * - one CONSUMER span per handler attempt (`process <topic>`, messaging semantic conventions),
 *   parented on the record's W3C `traceparent` header when it has one; status ERROR with the
 *   exception when the handler fails; a `multilane.retry` event when the attempt is retried and a
 *   `multilane.dead_letter` event when the record is dead-lettered;
 * - `app.producer` and dead letter produces carry the active span as `traceparent`.
 */
import type { Attributes, Context, Span, TextMapGetter, TextMapSetter, Tracer } from '@opentelemetry/api'
import type { Logger } from 'pino'
import type { HeaderInjector } from '../producing/app-producer.ts'
import type { EventBus, MultilaneEvents } from './events.ts'

/** `createApp({ tracing })`. */
export interface TracingOptions {
  /**
   * `'auto'` (default): on when `@opentelemetry/api` is installed and a tracer provider is
   * registered when the app starts; `true`: on when the api is installed (a warning when it is
   * not); `false`: off.
   */
  enabled?: boolean | 'auto'
}

/**
 * What a span reads from a work unit (processing's WorkUnit has this shape). Declared here, not
 * imported, because processing sits above instrumentation: processing calls tracing, never the
 * other way round.
 */
export interface TracedUnit {
  readonly run: {
    readonly topic: { readonly name: string }
    readonly partition: number
    /** Dropped before it ran (revocation, seek): no handler runs, no span. */
    readonly dropsUnfinished: boolean
  }
  readonly consumerGroup: {
    readonly name: string
    readonly segmentId: number
    readonly segmentOrigin: string
  }
  /** The first record (a share-group record also has a delivery count). */
  readonly record: { readonly offset: number; readonly deliveryCount?: number }
  /** The first record's headers, where a `traceparent` parents the span. */
  readonly wrappedRecord: { readonly headers: TracedHeaders }
  readonly attempt: number
  readonly pendingFailure: Error | undefined
  readonly size: number
  records(): ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly offset: number }>
}

/** Read access to a record's headers (processing's RecordHeaders has this shape). */
export interface TracedHeaders {
  get(name: string): string | undefined
  toObject(): Record<string, string>
}

/** What an attempt returned: done, or retried after a delay (processing's UnitOutcome). */
export type AttemptOutcome = { readonly done: true } | { readonly done: false; readonly retryAfterMs: number }

/** Runs a work unit's attempt (handler and failure decision) inside instrumentation. */
export interface UnitInstrumentation {
  /** False until the app started with tracing on: the executor then calls the unit directly. */
  readonly active: boolean
  execute<U extends TracedUnit, O extends AttemptOutcome>(
    unit: U,
    run: (unit: U) => O | Promise<O>,
  ): O | Promise<O>
}

type OtelApi = typeof import('@opentelemetry/api')

const TRACER_NAME = 'multilane'

const HEADER_GETTER: TextMapGetter<TracedHeaders> = {
  keys: (headers) => Object.keys(headers.toObject()),
  get: (headers, key) => headers.get(key),
}

const CARRIER_SETTER: TextMapSetter<(name: string, value: string) => void> = {
  set: (set, key, value) => set(key, value),
}

/** The key of an open span by record, for the events the failure policy emits during the attempt. */
function recordKey(group: string, topic: string, partition: number, offset: number): string {
  return `${group}\u0000${topic}\u0000${partition}\u0000${offset}`
}

/** The tracing of one app: off until {@link Tracing.start} finds the api (and, for 'auto', a provider). */
export class Tracing implements UnitInstrumentation {
  active = false
  readonly #enabled: boolean | 'auto'
  readonly #events: EventBus
  readonly #logger: Logger
  #api: OtelApi | undefined
  #tracer: Tracer | undefined
  /** Spans of attempts running now, by record. */
  readonly #open = new Map<string, Span>()
  #stopListening: (() => void) | undefined

  constructor(options: TracingOptions | undefined, events: EventBus, logger: Logger) {
    this.#enabled = options?.enabled ?? 'auto'
    this.#events = events
    this.#logger = logger
  }

  /** Loads the api (dynamic import) and turns tracing on as configured; never throws. */
  async start(): Promise<void> {
    if (this.#enabled === false || this.active) return
    let api: OtelApi
    try {
      const loaded = (await import('@opentelemetry/api')) as OtelApi & { default?: OtelApi }
      api = loaded.trace ? loaded : loaded.default!
    } catch {
      if (this.#enabled === true) {
        this.#logger.warn(
          'tracing.enabled is true but @opentelemetry/api is not installed: tracing is off (npm install @opentelemetry/api)',
        )
      }
      return
    }
    if (this.#enabled === 'auto' && !providerRegistered(api)) return
    this.#api = api
    this.#tracer = api.trace.getTracer(TRACER_NAME)
    this.#listen()
    this.active = true
  }

  /** Stops adding spans (the app stopped). */
  stop(): void {
    this.active = false
    this.#stopListening?.()
    this.#stopListening = undefined
  }

  /** Adds `traceparent` (and `tracestate`) of the active span to a record being produced. */
  readonly injector: HeaderInjector = (set) => {
    const api = this.#api
    if (!api) return
    api.propagation.inject(api.context.active(), set, CARRIER_SETTER)
  }

  execute<U extends TracedUnit, O extends AttemptOutcome>(
    unit: U,
    run: (unit: U) => O | Promise<O>,
  ): O | Promise<O> {
    // Dropped before it ran (revocation, seek): no handler runs, no span.
    if (unit.run.dropsUnfinished) return run(unit)
    const api = this.#api!
    const parent = api.propagation.extract(api.ROOT_CONTEXT, unit.wrappedRecord.headers, HEADER_GETTER)
    const span = this.#tracer!.startSpan(
      `process ${unit.run.topic.name}`,
      { kind: api.SpanKind.CONSUMER, attributes: this.#attributes(unit) },
      parent,
    )
    const keys = this.#register(unit, span)
    const context: Context = api.trace.setSpan(parent, span)
    let outcome: O | Promise<O>
    try {
      outcome = api.context.with(context, run, undefined, unit)
    } catch (error) {
      this.#end(span, keys, unit, undefined, error)
      throw error
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (o) => this.#end(span, keys, unit, o),
        (error: unknown) => {
          this.#end(span, keys, unit, undefined, error)
          throw error
        },
      )
    }
    return this.#end(span, keys, unit, outcome)
  }

  #attributes(unit: TracedUnit): Attributes {
    const group = unit.consumerGroup
    const record = unit.record
    const attributes: Attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': unit.run.topic.name,
      'messaging.consumer.group.name': group.name,
      'messaging.destination.partition.id': String(unit.run.partition),
      'messaging.kafka.offset': record.offset,
      // The attempt this span runs: the executor counts it when it calls the handler.
      'multilane.attempt': unit.pendingFailure ? unit.attempt : unit.attempt + 1,
    }
    if (group.segmentId >= 0) {
      attributes['multilane.segment'] = group.segmentId
      attributes['multilane.segment.origin'] = group.segmentOrigin
    }
    const deliveryCount = record.deliveryCount
    if (deliveryCount !== undefined) attributes['multilane.share.delivery_count'] = deliveryCount
    if (unit.size > 1) attributes['messaging.batch.message_count'] = unit.size
    return attributes
  }

  #register(unit: TracedUnit, span: Span): string[] {
    const group = unit.consumerGroup.name
    const keys: string[] = []
    for (const r of unit.records()) {
      const key = recordKey(group, r.topic, r.partition, r.offset)
      this.#open.set(key, span)
      keys.push(key)
    }
    return keys
  }

  #end<O extends AttemptOutcome>(
    span: Span,
    keys: readonly string[],
    unit: TracedUnit,
    outcome: O | undefined,
    error?: unknown,
  ): O {
    for (const key of keys) if (this.#open.get(key) === span) this.#open.delete(key)
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : String(error))
      span.setStatus({
        code: this.#api!.SpanStatusCode.ERROR,
        message: (error as Error)?.message ?? String(error),
      })
    } else if (outcome && !outcome.done) {
      span.addEvent('multilane.retry', {
        'multilane.attempt': unit.attempt,
        'multilane.retry.delay_ms': outcome.retryAfterMs,
      })
    }
    span.end()
    return outcome!
  }

  /** Failures and dead letters are reported as events while the attempt's span is open. */
  #listen(): void {
    const onError = (e: MultilaneEvents['error.occurred']) => {
      if (e.offset === undefined || e.topic === undefined || e.partition === undefined || !e.consumerGroup)
        return
      const span = this.#open.get(recordKey(e.consumerGroup, e.topic, e.partition, e.offset))
      if (!span) return
      if (e.type === 'consumer.handler.error' || e.type === 'consumer.deserializer.error') {
        span.recordException(e.error)
        span.setStatus({ code: this.#api!.SpanStatusCode.ERROR, message: e.error.message })
      } else if (e.type === 'consumer.retries_exhausted' || e.type === 'dead_letter_queue.dispatch.error') {
        span.addEvent(`multilane.${e.type}`, { 'exception.message': e.error.message })
      }
    }
    const onDeadLetter = (e: MultilaneEvents['dead_letter_queue.dispatched']) => {
      const span = this.#open.get(recordKey(e.consumerGroup, e.topic, e.partition, e.offset))
      span?.addEvent('multilane.dead_letter', {
        'multilane.dead_letter.topic': e.deadLetterTopic,
        'multilane.attempt': e.attempts,
      })
    }
    this.#events.on('error.occurred', onError)
    this.#events.on('dead_letter_queue.dispatched', onDeadLetter)
    this.#stopListening = () => {
      this.#events.off('error.occurred', onError)
      this.#events.off('dead_letter_queue.dispatched', onDeadLetter)
    }
  }
}

/**
 * Whether a tracer provider is registered: the api's default (no provider) gives spans with an
 * invalid context. The probe span is never ended, so no exporter sees it.
 */
function providerRegistered(api: OtelApi): boolean {
  const probe = api.trace.getTracer(TRACER_NAME).startSpan('multilane.probe', {}, api.ROOT_CONTEXT)
  return api.trace.isSpanContextValid(probe.spanContext())
}
