// app.producer: records produced from an app (and from its handlers) are on the broker as sent —
// key, value, headers, partition — read back by an independent reader; a missing topic or an
// invalid record fails at once with a typed error naming it, and nothing is sent; a batch whose
// records together exceed the broker's message size limit lands whole, in order; the producer
// closes with the app, leaving no open handle.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { jsonSerializer } from '../../../src/producing/app-producer.ts'
import { spawnFixture } from '../../support/fixture-process.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, within } from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'

function app(clientId = 'producer-test') {
  return createApp({ kafka: { bootstrap: bootstrapServers(), clientId }, logger: false })
}

test('a produce to a missing topic fails at once with PRODUCE_TOPIC_NOT_FOUND naming the topic', async () => {
  const a = app()
  const missing = uniqueName('no-such-topic')
  try {
    const outcome = await within(
      a.producer.send({ topic: missing, value: 'x' }).then(
        () => 'sent',
        (e: Error & { code?: string }) => e,
      ),
      10_000,
    )
    assert.notEqual(outcome, 'timed out', 'the produce must fail, not hang')
    assert.notEqual(outcome, 'sent')
    const error = outcome as Error & { code?: string }
    assert.equal(error.code, 'PRODUCE_TOPIC_NOT_FOUND')
    assert.equal(error.name, 'ProducerError')
    assert.match(error.message, new RegExp(`"${missing}" does not exist`))
    assert.match(error.message, /multilane topics create/)
  } finally {
    await a.stop()
  }
})

test('send and sendBatch: key, value, headers and partition read back as produced', async () => {
  const topic = await createTopic('producer-send', 3)
  const a = app()
  try {
    const one = await a.producer.send({
      topic,
      key: 'k1',
      value: Buffer.from('v1'),
      headers: { source: 'test', bytes: Buffer.from('b') },
      partition: 2,
    })
    assert.deepEqual(one, { topic, partition: 2, offset: 0 })
    const batch = await a.producer.sendBatch([
      { topic, key: 'k2', value: 'v2', partition: 0, headers: new Map([['n', '2']]) },
      { topic, key: 'k3', value: 'v3', partition: 0, headers: [['n', '3']] },
      { topic, key: null, value: null, partition: 1 },
    ])
    assert.equal(batch.count, 3)
    assert.deepEqual(batch.partitions.map((p) => [p.partition, p.baseOffset]).sort(), [
      [0, 0],
      [1, 0],
    ])
    const typed = a.producer.withSerializer(jsonSerializer<{ id: number }>())
    await typed.send({ topic, key: 'k4', value: { id: 4 }, partition: 1 })

    const read = await readRecords(topic, 5)
    const byKey = new Map(read.map((r) => [r.key, r]))
    assert.deepEqual(byKey.get('k1'), {
      partition: 2,
      offset: 0,
      key: 'k1',
      value: 'v1',
      headers: { source: 'test', bytes: 'b' },
    })
    assert.deepEqual(
      read.filter((r) => r.partition === 0).map((r) => [r.key, r.value, r.headers.n]),
      [
        ['k2', 'v2', '2'],
        ['k3', 'v3', '3'],
      ],
    )
    assert.equal(byKey.get('k4')?.value, '{"id":4}')
    assert.equal(read.filter((r) => r.partition === 1).length, 2, 'the tombstone and the JSON record')
  } finally {
    await a.stop()
  }
})

test('an invalid record is refused naming the record and the field, and nothing of the batch is sent', async () => {
  const topic = await createTopic('producer-invalid', 1)
  const a = app()
  try {
    await assert.rejects(
      a.producer.sendBatch([
        { topic, value: 'fine' },
        // @ts-expect-error: an object without a serializer
        { topic, value: { id: 1 } },
      ]),
      (e: Error & { code?: string }) =>
        e.code === 'INVALID_PRODUCE_RECORD' &&
        /records\[1\]\.value: must be a Buffer or a string, got object/.test(e.message) &&
        /withSerializer\(jsonSerializer\(\)\)/.test(e.message),
    )
    await assert.rejects(
      a.producer.send({ topic, value: 'x', partition: -1 }),
      (e: Error & { code?: string }) =>
        e.code === 'INVALID_PRODUCE_RECORD' && /record: partition must be an integer ≥ 0/.test(e.message),
    )
    await a.producer.send({ topic, key: 'after', value: 'only this one' })
    const read = await readRecords(topic, 1)
    assert.equal(read[0]!.value, 'only this one')
    assert.equal(read[0]!.offset, 0, 'nothing of the refused batch was written before it')
  } finally {
    await a.stop()
  }
})

test('consume → transform → produce: every record a handler produced is on the output topic', async () => {
  const input = await createTopic('producer-in', 2)
  const output = await createTopic('producer-out', 2)
  const count = 40
  await produceRecords(input, count, { partitions: 2 })
  const a = app()
  let handled = 0
  a.consumerGroup(uniqueName('producer-transform'), (g) =>
    g.topic(input, {
      handler: async (record, ctx) => {
        await a.producer.send({
          topic: output,
          key: record.key,
          value: String(record.value).toUpperCase(),
          headers: { from: `${ctx.topic}#${ctx.partition}@${record.offset}` },
        })
        handled++
      },
    }),
  )
  await a.start()
  try {
    const read = await readRecords(output, count, 60_000)
    assert.deepEqual(read.map((r) => r.value).sort(), Array.from({ length: count }, (_, i) => `V${i}`).sort())
    assert.ok(read.every((r) => r.headers.from?.startsWith(`${input}#`)))
  } finally {
    await a.stop()
  }
  assert.equal(handled, count)
  await assert.rejects(
    a.producer.send({ topic: output, value: 'late' }),
    (e: Error & { code?: string }) => e.code === 'PRODUCER_CLOSED' && /closes with the app/.test(e.message),
  )
})

test('the producer closes with the app: a process that produced and stopped exits by itself', async () => {
  const input = await createTopic('producer-exit-in', 1)
  const output = await createTopic('producer-exit-out', 1)
  await produceRecords(input, 1, { partitions: 1 })
  const lines: string[] = []
  const child = spawnFixture(
    'producer-app.ts',
    [bootstrapServers().join(','), input, output, uniqueName('producer-exit')],
    (l) => lines.push(l),
  )
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const code = await within(exited, 90_000)
  if (code === 'timed out') child.kill('SIGKILL')
  assert.deepEqual(lines, ['produced 0', 'stopped'])
  assert.equal(code, 0, 'the process ended on its own after stop() (no open handle)')
  const read = await readRecords(output, 1)
  assert.equal(read[0]!.value, 'V0')
})

test('app.producer before start works, and stop() of an app never started closes it', async () => {
  const topic = await createTopic('producer-unstarted', 1)
  const a = app()
  await a.producer.send({ topic, value: 'before start' })
  await a.stop()
  await assert.rejects(
    a.producer.send({ topic, value: 'after stop' }),
    (e: Error & { code?: string }) => e.code === 'PRODUCER_CLOSED',
  )
  assert.equal((await readRecords(topic, 1))[0]!.value, 'before start')
})

test('a batch whose records together exceed the broker message size limit (300 × 10 KB) lands whole, in order', async () => {
  const topic = await createTopic('producer-big-batch', 2)
  const a = app()
  try {
    const records = Array.from({ length: 300 }, (_, i) => ({
      topic,
      key: `k${i}`,
      value: `${i}:`.padEnd(10_000, 'x'),
      partition: i % 2,
    }))
    const batch = await a.producer.sendBatch(records)
    assert.equal(batch.count, 300)
    assert.deepEqual(batch.partitions.map((p) => [p.partition, p.baseOffset]).sort(), [
      [0, 0],
      [1, 0],
    ])
    const read = await readRecords(topic, 300)
    for (const partition of [0, 1]) {
      assert.deepEqual(
        read.filter((r) => r.partition === partition).map((r) => [r.offset, Number(r.value!.split(':')[0])]),
        Array.from({ length: 150 }, (_, j) => [j, 2 * j + partition]),
      )
    }
  } finally {
    await a.stop()
  }
})
