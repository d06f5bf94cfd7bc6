// The default log: handler failures, retries, dead letters and connection errors are logged
// without any subscription, repeats limited per partition and kind and summarized in words.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { attachDefaultLog, type DefaultLogTarget } from '../../../src/instrumentation/default-log.ts'
import { EventBus } from '../../../src/instrumentation/events.ts'

function capture() {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = []
  const target: DefaultLogTarget = {
    info: (fields, message) => lines.push({ level: 'info', message, fields }),
    warn: (fields, message) => lines.push({ level: 'warn', message, fields }),
    error: (fields, message) => lines.push({ level: 'error', message, fields }),
  }
  return { lines, target }
}

const failure = (partition: number, offset: number) => ({
  type: 'consumer.handler.error' as const,
  error: new Error('boom'),
  consumerGroup: 'g',
  topic: 't',
  partition,
  offset,
  attempt: 1,
})

test('handler errors are logged without any subscription, once per partition per window', () => {
  const events = new EventBus()
  const { lines, target } = capture()
  const detach = attachDefaultLog(events, target)
  for (let i = 0; i < 50; i++) events.emit('error.occurred', failure(0, i))
  events.emit('error.occurred', failure(1, 0))
  detach()
  assert.deepEqual(
    lines.map((l) => [l.level, l.message]),
    [
      ['warn', 'consumer.handler.error t#0@0 (attempt 1): boom'],
      ['warn', 'consumer.handler.error t#1@0 (attempt 1): boom'],
    ],
  )
})

test('fatal errors, dead letters, missing topics, limits and resets are logged', () => {
  const events = new EventBus()
  const { lines, target } = capture()
  const detach = attachDefaultLog(events, target)
  events.emit('error.occurred', {
    type: 'consumer.fatal',
    error: new Error('FENCED_INSTANCE_ID'),
    fatal: true,
  })
  events.emit('dead_letter_queue.dispatched', {
    consumerGroup: 'g',
    topic: 't',
    partition: 0,
    offset: 7,
    deadLetterTopic: 't.dlq',
    attempts: 4,
    error: new Error('poison'),
  })
  events.emit('topics.missing', { consumerGroup: 'g', topics: ['orderz'] })
  events.emit('error.occurred', {
    type: 'consumer.connection.error',
    error: new Error('ECONNREFUSED'),
    consumerGroup: 'g',
  })
  events.emit('offsets.window_limit_reached', {
    consumerGroup: 'g',
    topic: 't',
    partition: 0,
    lowestUnfinished: 3,
    limit: 100_000,
  })
  events.emit('partitions.position_reset', {
    consumerGroup: 'g',
    topic: 't',
    partition: 0,
    from: 1000,
    to: 0,
    reason: 'offset_reset',
    policy: 'earliest',
  })
  detach()
  assert.deepEqual(
    lines.map((l) => l.level),
    ['error', 'warn', 'warn', 'warn', 'warn', 'warn'],
  )
  assert.match(lines[0]!.message, /fatal: FENCED_INSTANCE_ID/)
  assert.match(lines[1]!.message, /t#0@7 sent to dead letter topic t\.dlq after 4 attempts/)
  assert.match(lines[2]!.message, /topics that do not exist: orderz/)
  assert.match(lines[3]!.message, /consumer\.connection\.error: ECONNREFUSED/)
  assert.match(lines[4]!.message, /100000 offsets held above unfinished record 3/)
  assert.match(lines[5]!.message, /offset 1000 is out of range: reset to earliest \(0\)/)
})

test('repeats left out are counted and reported when the window ends', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const events = new EventBus()
  const { lines, target } = capture()
  const detach = attachDefaultLog(events, target)
  for (let i = 0; i < 5; i++) events.emit('error.occurred', failure(0, i))
  assert.equal(lines.length, 1)
  t.mock.timers.tick(10_000)
  assert.equal(lines.length, 2)
  assert.equal(
    lines[1]!.message,
    '4 more handler errors (consumer.handler.error) in consumer group "g", topic "t", partition 0 within 10 s, not logged one by one',
  )
  assert.deepEqual(lines[1]!.fields, {
    repeats: 4,
    type: 'consumer.handler.error',
    consumerGroup: 'g',
    topic: 't',
    partition: 0,
  })
  detach()
})

test('repeat summaries name what repeated in words, for errors without a partition and for dead letters', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const events = new EventBus()
  const { lines, target } = capture()
  const detach = attachDefaultLog(events, target)
  for (let i = 0; i < 3; i++)
    events.emit('error.occurred', {
      type: 'consumer.connection.error',
      error: new Error('ECONNREFUSED'),
      consumerGroup: 'g',
    })
  for (let i = 0; i < 3; i++)
    events.emit('dead_letter_queue.dispatched', {
      consumerGroup: 'g',
      topic: 't',
      partition: 2,
      offset: i,
      deadLetterTopic: 't.dlq',
      attempts: 1,
      error: new Error('poison'),
    })
  t.mock.timers.tick(10_000)
  detach()
  const summaries = lines.filter((l) => l.fields.repeats !== undefined).map((l) => l.message)
  assert.deepEqual(summaries.sort(), [
    '2 more connection errors (consumer.connection.error) in consumer group "g" within 10 s, not logged one by one',
    '2 more records sent to the dead letter topic in consumer group "g", topic "t", partition 2 within 10 s, not logged one by one',
  ])
  assert.ok(
    lines.every((l) => !String(l.message).includes('|')),
    'no internal key in a line',
  )
})

test('share groups: lost locks and rejected records are logged, once per partition per window', () => {
  const events = new EventBus()
  const { lines, target } = capture()
  const detach = attachDefaultLog(events, target)
  const record = (offset: number) => ({
    consumerGroup: 'g',
    topic: 't',
    partition: 0,
    offset,
    deliveryCount: 2,
  })
  for (const offset of [1, 2, 3])
    events.emit('share.lock_lost', { ...record(offset), reason: 'the connection closed' })
  events.emit('share.rejected', record(9))
  events.emit('share.released', record(4))
  events.emit('share.lock_renewed', { ...record(5), lockDeadline: 0 })
  detach()
  assert.deepEqual(
    lines.map((l) => [l.level, l.message]),
    [
      [
        'warn',
        't#0@1: lock of delivery 2 lost (the connection closed): the record may be processed again, here or by another member',
      ],
      [
        'warn',
        "t#0@9 rejected on delivery 2: never delivered again (archived, or written to the group's dead letter topic by the broker)",
      ],
    ],
  )
})

test('the group protocol a member chose is logged at info, with why', () => {
  const events = new EventBus()
  const { lines, target } = capture()
  const detach = attachDefaultLog(events, target)
  events.emit('group.protocol_chosen', {
    consumerGroup: 'orders',
    protocol: 'classic',
    requested: 'auto',
    reason:
      "groupProtocol 'auto': broker 1 reports group.version 0 and ConsumerGroupHeartbeat up to v0, so the classic protocol",
  })
  detach()
  assert.deepEqual(
    lines.map((l) => [l.level, l.message]),
    [
      [
        'info',
        `consumer group "orders" uses the classic group protocol (groupProtocol 'auto': broker 1 reports group.version 0 and ConsumerGroupHeartbeat up to v0, so the classic protocol)`,
      ],
    ],
  )
})
