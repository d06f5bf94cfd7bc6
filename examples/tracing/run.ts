// `npm run example:tracing`: one trace across two consumer groups. A "checkout" span produces an
// order with app.producer (traceparent injected); group "enrich" handles it and produces the
// enriched order from its handler (its span injected); group "notify" handles that. The spans
// are collected in memory and printed as a tree: checkout → process orders → process enriched.
// A real app registers the SDK with @opentelemetry/sdk-node (exporter, propagator and async
// context manager in one call); this example registers the parts by hand to stay self-contained.
import { AsyncLocalStorage } from 'node:async_hooks'
import {
  type Context,
  type ContextManager,
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { Admin } from '@platformatic/kafka'
import { startLocalKafka } from '../../src/devkafka/local-broker.ts'
import { createApp } from '../../src/index.ts'
import { BOOTSTRAP_ENV } from '../../src/kafka/bootstrap.ts'

/** Keeps the active span across awaits (what @opentelemetry/context-async-hooks does). */
class AsyncContext implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>()
  active = (): Context => this.#storage.getStore() ?? ROOT_CONTEXT
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.apply(thisArg, args))
  }
  bind<T>(_ctx: Context, target: T): T {
    return target
  }
  enable = (): this => this
  disable = (): this => this
}

const exporter = new InMemorySpanExporter()
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
)
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
context.setGlobalContextManager(new AsyncContext())

async function kafka(): Promise<string> {
  const given = process.env[BOOTSTRAP_ENV]
  if (given) return given
  const { state } = await startLocalKafka({ onProgress: (m) => process.stderr.write(`local Kafka: ${m}…\n`) })
  return state.bootstrap
}

const bootstrap = await kafka()
const run = Date.now().toString(36)
const orders = `tracing-orders-${run}`
const enriched = `tracing-enriched-${run}`
const admin = new Admin({ clientId: 'tracing-admin', bootstrapBrokers: [bootstrap] })
await admin.createTopics({ topics: [orders, enriched], partitions: 1, replicas: 1 })
await admin.close()

// tracing: { enabled: 'auto' } (the default) finds the provider registered above.
const app = createApp({ kafka: { bootstrap, clientId: 'tracing-example' }, logger: false })
let notified!: () => void
const done = new Promise<void>((resolve) => {
  notified = resolve
})
app.consumerGroup(`enrich-${run}`, (g) =>
  g.topic(orders, {
    handler: async (record) => {
      await app.producer.send({
        topic: enriched,
        key: record.key,
        value: `${String(record.value)} (enriched)`,
      })
    },
  }),
)
app.consumerGroup(`notify-${run}`, (g) => g.topic(enriched, { handler: () => notified() }))
await app.start()

await trace.getTracer('example').startActiveSpan('checkout', async (span) => {
  await app.producer.send({ topic: orders, key: 'order-1', value: 'order 1' })
  span.end()
})
await done
await app.stop()

const spans = exporter.getFinishedSpans()
const children = (parent: ReadableSpan | undefined) =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent?.spanContext().spanId)
const print = (span: ReadableSpan, depth: number): void => {
  const group = span.attributes['messaging.consumer.group.name']
  process.stdout.write(
    `${'  '.repeat(depth)}${span.name}${group ? `  [group ${group}]` : ''}  trace ${span.spanContext().traceId}\n`,
  )
  for (const child of children(span)) print(child, depth + 1)
}
const root = spans.find((s) => s.name === 'checkout')!
print(root, 0)
const inTrace = spans.filter((s) => s.spanContext().traceId === root.spanContext().traceId).length
process.exitCode = inTrace === 3 ? 0 : 1
