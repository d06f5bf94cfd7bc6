// The runtime's record filter (where parallel segments plug in), on a real broker: rejected
// records never reach a handler, count as done, and are committed even at the partition's end.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import { createApp } from '../../../src/app/app.ts'
import { membersOf } from '../../../src/app/members.ts'
import { type ErrorOccurredEvent, EventBus } from '../../../src/instrumentation/events.ts'
import { createConsumerGroupRuntime } from '../../../src/processing/consumer-group/runtime.ts'
import { DeadLetterQueueProducer } from '../../../src/processing/dead-letter-queue.ts'
import type { RecordFilter } from '../../../src/processing/processing-runtime.ts'
import {
  bootstrapServers,
  committedOffsets,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
} from '../../support/kafka.ts'

const PER_PARTITION = 300

for (const style of ['blocking', 'continuous'] as const) {
  test(`${style}: filtered records are skipped, count as done, and trailing ones are committed`, async () => {
    const topic = await createTopic(`filter-${style}`, 2)
    const group = uniqueName(`filter-${style}`)
    await produceRecords(topic, PER_PARTITION * 2, { partitions: 2 })

    const handled: string[] = []
    const app = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'filter' }, logger: false })
    app.consumerGroup(group, (g) => {
      g.topic(topic, {
        processing: { style, capacity: 20, ordering: 'key', commitIntervalMs: 100 },
        handler: (record) => {
          handled.push(`${record.partition}:${record.offset}`)
        },
      })
    })
    const definition = app.definition()
    // Keeps every fourth record below offset 100 (so each partition ends in filtered records),
    // and throws on offset 9 of partition 0, which it would reject: that record must be processed.
    const filter: RecordFilter = (record) => {
      if (record.partition === 0 && record.offset === 9) throw new Error('filter failed')
      return record.offset % 4 === 0 && record.offset < 100
    }
    const events = new EventBus()
    const errors: ErrorOccurredEvent[] = []
    events.on('error.occurred', (e) => errors.push(e))
    const deadLetters = new DeadLetterQueueProducer(definition.settings.kafka)
    const runtime = createConsumerGroupRuntime({
      ...membersOf(definition.consumerGroups[0]!, definition.settings, events)[0]!,
      kafka: definition.settings.kafka,
      events,
      logger: pino({ enabled: false }),
      deadLetters,
      filter,
    })
    await runtime.start()
    try {
      await waitUntil(
        async () => {
          const committed = await committedOffsets(group, topic, 2)
          return [0, 1].every((p) => committed.get(p)?.offset === PER_PARTITION)
        },
        { timeoutMs: 60_000, message: 'both partitions committed at their end' },
      )
    } finally {
      await runtime.stop()
      await deadLetters.close()
    }

    const expected: string[] = []
    for (const p of [0, 1]) for (let o = 0; o < 100; o += 4) expected.push(`${p}:${o}`)
    expected.push('0:9')
    assert.deepEqual([...handled].sort(), expected.sort(), 'exactly the accepted records were handled, once')
    const filterErrors = errors.filter((e) => e.type === 'consumer.filter.error')
    assert.equal(filterErrors.length, 1)
    assert.deepEqual([filterErrors[0]!.partition, filterErrors[0]!.offset], [0, 9])
  })
}
