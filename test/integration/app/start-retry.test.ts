// An app started while no broker is reachable retries with backoff, logging each attempt, for
// up to kafka.startTimeoutMs: a cluster that comes up meanwhile is joined (nothing lost), one
// that does not fails the start with NO_BROKER_REACHABLE naming the attempts. The "cluster"
// appears when a proxy to the real broker starts listening on the address the app was given.
// A stop during the start ends it at once: during a wait between attempts, and during an
// attempt that a broker accepting connections but never answering would hold for
// kafka.requestTimeoutMs.
import assert from 'node:assert/strict'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { test } from 'node:test'
import { pino } from 'pino'
import { createApp } from '../../../src/app/app.ts'
import { parseBootstrap } from '../../../src/kafka/bootstrap.ts'
import { FaultProxy } from '../../support/fault-proxy.ts'
import {
  bootstrapServers,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
  within,
} from '../../support/kafka.ts'

/** A port nothing listens on (taken from the OS, then released). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** A pino logger whose lines are kept (parsed). */
function capturingLogger() {
  const lines: Array<{ msg: string; attempt?: number; retryInMs?: number; level: number; at: number }> = []
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push({ ...JSON.parse(line), at: Date.now() }) },
  )
  return { logger, attempts: () => lines.filter((l) => l.msg.includes('no broker reachable at start')) }
}

test('a start while no broker is reachable retries, logging each attempt, and joins once the cluster answers', async () => {
  const topic = await createTopic('start-retry', 1)
  await produceRecords(topic, 10, { partitions: 1 })
  const port = await freePort()
  const { logger, attempts } = capturingLogger()
  const handled = new Set<number>()
  const app = createApp({
    kafka: { bootstrap: `127.0.0.1:${port}`, clientId: 'start-retry', startTimeoutMs: 120_000 },
    logger,
  })
  app.consumerGroup(uniqueName('start-retry'), (g) =>
    g.topic(topic, { handler: (record) => void handled.add(record.offset) }),
  )
  let proxy: FaultProxy | undefined
  const started = app.start()
  try {
    await waitUntil(() => attempts().length >= 2, { message: 'two failed attempts logged' })
    proxy = await FaultProxy.start(parseBootstrap(bootstrapServers())[0]!, port)
    await started
    await waitUntil(() => handled.size === 10, { timeoutMs: 60_000, message: 'every record handled' })
  } finally {
    await started.catch(() => {})
    await app.stop()
    await proxy?.close()
  }
  assert.deepEqual(
    attempts()
      .slice(0, 2)
      .map((l) => l.attempt),
    [1, 2],
  )
})

test('no broker reachable within kafka.startTimeoutMs: the start fails with NO_BROKER_REACHABLE naming the attempts', async () => {
  const port = await freePort()
  const { logger, attempts } = capturingLogger()
  const app = createApp({
    kafka: { bootstrap: `127.0.0.1:${port}`, clientId: 'start-retry', startTimeoutMs: 2000 },
    logger,
  })
  app.consumerGroup(uniqueName('start-retry'), (g) => g.topic('start-retry-none', { handler: () => {} }))
  await assert.rejects(app.start(), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'NO_BROKER_REACHABLE')
    assert.match(e.message, /gave up after \d+ attempts in \d+ ms \(kafka\.startTimeoutMs: 2000\)/)
    return true
  })
  assert.ok(attempts().length >= 2, `each failed attempt is logged (${attempts().length})`)
})

test('stop() while the start waits between attempts ends the start before that wait would have ended', async () => {
  const port = await freePort()
  const { logger, attempts } = capturingLogger()
  const app = createApp({
    kafka: { bootstrap: `127.0.0.1:${port}`, clientId: 'start-retry', startTimeoutMs: 120_000 },
    logger,
  })
  app.consumerGroup(uniqueName('start-retry'), (g) => g.topic('start-retry-none', { handler: () => {} }))
  const started = app.start()
  // The waits double from 0.5 s up to 5 s: stop during the first 5 s one.
  await waitUntil(() => attempts().some((l) => l.retryInMs === 5000), {
    timeoutMs: 60_000,
    message: 'an attempt followed by a 5 s wait',
  })
  const waiting = attempts().find((l) => l.retryInMs === 5000)!
  await app.stop()
  await started
  const stoppedAt = Date.now()
  assert.ok(
    stoppedAt < waiting.at + waiting.retryInMs!,
    `stop() ended ${stoppedAt - waiting.at} ms after the attempt, not before its ${waiting.retryInMs} ms wait was over`,
  )
})

test('stop() while an attempt waits for a broker that accepts connections but never answers ends the start without waiting out kafka.requestTimeoutMs', async () => {
  const sockets = new Set<Socket>()
  const silent = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const { port } = silent.address() as AddressInfo
  const app = createApp({
    kafka: {
      bootstrap: `127.0.0.1:${port}`,
      clientId: 'start-retry',
      startTimeoutMs: 300_000,
      requestTimeoutMs: 120_000,
    },
    logger: false,
  })
  app.consumerGroup(uniqueName('start-retry'), (g) => g.topic('start-retry-none', { handler: () => {} }))
  const started = app.start()
  try {
    await waitUntil(() => sockets.size > 0, { message: 'the start connected to the silent broker' })
    await app.stop()
    const outcome = await within(started, 60_000)
    assert.notEqual(outcome, 'timed out', 'the start still waited for the broker 60 s after stop()')
  } finally {
    for (const socket of sockets) socket.destroy()
    await started.catch(() => {})
    silent.close()
  }
})
