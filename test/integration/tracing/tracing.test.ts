// Tracing through @opentelemetry/api: with a tracer provider registered ('auto'), every handler
// attempt is a CONSUMER span with the messaging attributes, parented on the record's W3C
// traceparent; app.producer and dead letter produces carry the handler span as traceparent; a
// failing attempt has status ERROR, a retried one a multilane.retry event, a dead-lettered one a
// multilane.dead_letter event; a share group's span has the delivery count. With no provider ('auto') or `enabled: false`, no span is made.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { pino } from 'pino'
import { createApp } from '../../../src/app/app.ts'
import type { AppOptions } from '../../../src/app/options/app.ts'
import { EventBus } from '../../../src/instrumentation/events.ts'
import { Tracing } from '../../../src/instrumentation/tracing.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { registerInMemoryTracing } from '../../support/otel.ts'
import { readRecords } from '../../support/read-topic.ts'
import { shareGroup } from '../../support/share.ts'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`

function app(options: Partial<AppOptions> = {}) {
  return createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'tracing-test' },
    logger: false,
    ...options,
  })
}

/** Runs an app over `topic` until `handled` records were handled; returns how many times the handler ran. */
async function runUntilHandled(
  a: ReturnType<typeof app>,
  topic: string,
  handled: () => boolean,
): Promise<void> {
  await a.start()
  try {
    await waitUntil(handled, { timeoutMs: 60_000, message: `records of ${topic} handled` })
  } finally {
    await a.stop()
  }
}

let exporter: InMemorySpanExporter | undefined

function spansOf(topic: string): ReadableSpan[] {
  return (exporter?.getFinishedSpans() ?? []).filter((s) => s.name === `process ${topic}`)
}

test("'auto' without a registered tracer provider, and enabled: false, make no spans and the handler runs", async () => {
  const topic = await createTopic('tracing-off', 1)
  await produceRecords(topic, 2, { partitions: 1 })
  const probe = new Tracing({ enabled: 'auto' }, new EventBus(), pino({ enabled: false }))
  await probe.start()
  assert.equal(probe.active, false, "'auto' stays off while no tracer provider is registered")
  let handled = 0
  const auto = app()
  auto.consumerGroup(uniqueName('tracing-auto'), (g) => g.topic(topic, { handler: () => void handled++ }))
  await runUntilHandled(auto, topic, () => handled === 2)

  exporter = registerInMemoryTracing()
  await probe.start()
  assert.equal(probe.active, true, "'auto' is on once a provider is registered")
  probe.stop()
  const off = app({ tracing: { enabled: false } })
  off.consumerGroup(uniqueName('tracing-false'), (g) => g.topic(topic, { handler: () => void handled++ }))
  await runUntilHandled(off, topic, () => handled === 4)
  assert.deepEqual(spansOf(topic), [])
})

test('a span per record: messaging attributes, parented on the traceparent header, the handler span active', async () => {
  exporter ??= registerInMemoryTracing()
  const topic = await createTopic('tracing-attrs', 2)
  const output = await createTopic('tracing-out', 1)
  await produceRecords(topic, 4, {
    partitions: 2,
    record: (i) => ({
      key: `k${i}`,
      value: `v${i}`,
      partition: i % 2,
      headers: i === 0 ? { traceparent: TRACEPARENT } : ({} as Record<string, string>),
    }),
  })
  const group = uniqueName('tracing-attrs')
  const a = app()
  let handled = 0
  a.consumerGroup(group, (g) =>
    g.topic(topic, {
      handler: async (record) => {
        if (record.offset === 0 && record.partition === 0) {
          await a.producer.send({ topic: output, key: 'out', value: 'from the handler' })
        }
        handled++
      },
    }),
  )
  await runUntilHandled(a, topic, () => handled === 4)
  const spans = spansOf(topic)
  assert.equal(spans.length, 4)
  const first = spans.find(
    (s) =>
      s.attributes['messaging.kafka.offset'] === 0 &&
      s.attributes['messaging.destination.partition.id'] === '0',
  )!
  assert.ok(first, 'the span of partition 0 offset 0')
  assert.equal(first.kind, SpanKind.CONSUMER)
  assert.deepEqual(first.attributes, {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': topic,
    'messaging.consumer.group.name': group,
    'messaging.destination.partition.id': '0',
    'messaging.kafka.offset': 0,
    'multilane.attempt': 1,
  })
  assert.equal(first.spanContext().traceId, TRACE_ID, 'continues the producer’s trace')
  assert.equal(first.parentSpanContext?.spanId, PARENT_ID)
  assert.equal(first.status.code, SpanStatusCode.UNSET)
  const others = spans.filter((s) => s !== first)
  assert.ok(
    others.every((s) => s.parentSpanContext === undefined && s.spanContext().traceId !== TRACE_ID),
    'no header: a new trace',
  )

  const [produced] = await readRecords(output, 1)
  assert.equal(
    produced!.headers.traceparent,
    `00-${TRACE_ID}-${first.spanContext().spanId}-01`,
    'app.producer injects the handler span',
  )
})

test('a failing attempt has status ERROR and a retry event; the last one a dead letter event; the DLQ record carries its traceparent', async () => {
  exporter ??= registerInMemoryTracing()
  const topic = await createTopic('tracing-fail', 1)
  const dlq = await createTopic('tracing-fail-dlq', 1)
  await produceRecords(topic, 1, {
    partitions: 1,
    record: () => ({ key: 'k', value: 'v', partition: 0, headers: { traceparent: TRACEPARENT } }),
  })
  const a = app()
  let attempts = 0
  a.consumerGroup(uniqueName('tracing-fail'), (g) =>
    g.topic(topic, {
      retries: { backoff: { initialMs: 10, maxMs: 20 } },
      deadLetterQueue: { topic: dlq, maxRetries: 1 },
      handler: () => {
        attempts++
        throw new Error(`attempt ${attempts} failed`)
      },
    }),
  )
  let dispatched = 0
  a.on('dead_letter_queue.dispatched', () => void dispatched++)
  await runUntilHandled(a, topic, () => dispatched === 1)
  const spans = spansOf(topic).sort(
    (x, y) => Number(x.attributes['multilane.attempt']) - Number(y.attributes['multilane.attempt']),
  )
  assert.equal(spans.length, 2, 'one span per attempt')
  const [firstAttempt, lastAttempt] = spans as [ReadableSpan, ReadableSpan]
  for (const [span, n] of [
    [firstAttempt, 1],
    [lastAttempt, 2],
  ] as const) {
    assert.equal(span.attributes['multilane.attempt'], n)
    assert.equal(span.status.code, SpanStatusCode.ERROR)
    assert.equal(span.status.message, `attempt ${n} failed`)
    assert.equal(span.spanContext().traceId, TRACE_ID)
    assert.ok(
      span.events.some(
        (e) => e.name === 'exception' && e.attributes?.['exception.message'] === `attempt ${n} failed`,
      ),
    )
  }
  const retry = firstAttempt.events.find((e) => e.name === 'multilane.retry')
  assert.ok(retry, 'the first attempt is retried')
  assert.equal(retry.attributes?.['multilane.attempt'], 1)
  assert.equal(typeof retry.attributes?.['multilane.retry.delay_ms'], 'number')
  const deadLetter = lastAttempt.events.find((e) => e.name === 'multilane.dead_letter')
  assert.ok(deadLetter, 'the last attempt is dead-lettered')
  assert.equal(deadLetter.attributes?.['multilane.dead_letter.topic'], dlq)
  assert.ok(!lastAttempt.events.some((e) => e.name === 'multilane.retry'))

  const [dead] = await readRecords(dlq, 1)
  assert.equal(dead!.headers.traceparent, `00-${TRACE_ID}-${lastAttempt.spanContext().spanId}-01`)
})

test('share groups: the span has the delivery count and the group, parented on the traceparent', async () => {
  exporter ??= registerInMemoryTracing()
  const topic = await createTopic('tracing-share', 1)
  const group = await shareGroup('tracing-share')
  await produceRecords(topic, 1, {
    partitions: 1,
    record: () => ({ key: 'k', value: 'v', partition: 0, headers: { traceparent: TRACEPARENT } }),
  })
  const a = app({ shutdownTimeoutMs: 5000 })
  let handled = 0
  a.shareGroup(group, (g) => g.topic(topic, { handler: () => void handled++ }))
  await runUntilHandled(a, topic, () => handled === 1)
  const [span, ...rest] = spansOf(topic)
  assert.ok(span)
  assert.deepEqual(rest, [])
  assert.equal(span.attributes['messaging.consumer.group.name'], group)
  assert.equal(span.attributes['multilane.share.delivery_count'], 1)
  assert.equal(span.attributes['messaging.kafka.offset'], 0)
  assert.equal(span.parentSpanContext?.spanId, PARENT_ID)
})
