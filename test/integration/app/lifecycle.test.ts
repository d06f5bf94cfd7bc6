// The app's lifecycle edges, on a real broker: a second signal during the drain, run() or
// start() on a started app, stop() while start() joins, a close that fails during stop().
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { DeadLetterQueueProducer } from '../../../src/processing/dead-letter-queue.ts'
import { spawnFixture } from '../../support/fixture-process.ts'
import {
  bootstrapServers,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
  within,
} from '../../support/kafka.ts'

function app(
  topic: string,
  group = uniqueName('lifecycle'),
  logger: Parameters<typeof createApp>[0]['logger'] = false,
) {
  const a = createApp({ kafka: { bootstrap: bootstrapServers(), clientId: 'lifecycle' }, logger })
  a.consumerGroup(group, (g) => g.topic(topic, { handler: () => {} }))
  return a
}

test('a second SIGTERM during the drain exits at once with 143 (128 + 15), a second SIGINT with 130', async () => {
  const topic = await createTopic('signals', 1)
  await produceRecords(topic, 1, { partitions: 1 })
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    const lines: string[] = []
    const child = spawnFixture(
      'signal-app.ts',
      [bootstrapServers().join(','), topic, uniqueName('signals')],
      (l) => lines.push(l),
    )
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
    try {
      await waitUntil(() => lines.includes('R'), { message: 'the handler runs' })
      child.kill(signal)
      await new Promise((r) => setTimeout(r, 300))
      child.kill(signal)
      assert.equal(await within(exited, 10_000), code, signal)
    } finally {
      child.kill('SIGKILL')
    }
  }
})

test('run() on an app already started throws and leaves it running', async () => {
  const topic = await createTopic('run-twice', 1)
  const a = app(topic)
  let handled = 0
  a.on('consumer.consumed', () => handled++)
  await a.start()
  try {
    await assert.rejects(a.run(), (e: Error & { code?: string }) => e.code === 'APP_ALREADY_STARTED')
    await produceRecords(topic, 3, { partitions: 1 })
    await waitUntil(() => handled === 3, { message: 'still processing after the refused run()' })
  } finally {
    await a.stop()
  }
})

test('stop() while start() joins: start ends quietly, the app stays stopped', async () => {
  const topic = await createTopic('stop-during-start', 1)
  const a = app(topic)
  const starting = a.start()
  const stopping = a.stop()
  await starting
  await stopping
  await assert.rejects(a.start(), (e: Error & { code?: string }) => e.code === 'APP_ALREADY_STARTED')
  let handled = 0
  a.on('consumer.consumed', () => handled++)
  await produceRecords(topic, 2, { partitions: 1 })
  await new Promise((r) => setTimeout(r, 500))
  assert.equal(handled, 0, 'nothing runs after the stop')
})

test('a failing dead letter producer close is logged, and stop() still ends with the app stopped', async () => {
  const topic = await createTopic('close-fails', 1)
  const errors: string[] = []
  const logger = {
    info: () => {},
    debug: () => {},
    warn: () => {},
    error: (_fields: unknown, message?: string) => void errors.push(String(message)),
    child() {
      return logger
    },
  }
  const a = app(topic, uniqueName('close-fails'), logger)
  const close = DeadLetterQueueProducer.prototype.close
  DeadLetterQueueProducer.prototype.close = async () => {
    throw new Error('producer close failed')
  }
  try {
    await a.start()
    await a.stop()
  } finally {
    DeadLetterQueueProducer.prototype.close = close
  }
  assert.ok(errors.includes('closing the dead letter producer failed'), errors.join('\n'))
  await assert.rejects(
    a.start(),
    (e: Error & { code?: string }) => e.code === 'APP_ALREADY_STARTED' && /stopped/.test(e.message),
  )
})
