// A broker that dies while the launcher probes it (as when it could not bind a later listener)
// must fail the probe, not crash the process with an unhandled 'error' event.
import assert from 'node:assert/strict'
import { createServer, type Socket } from 'node:net'
import { test } from 'node:test'
import { probeBroker, shareGroupsUnavailableReason } from '../../../src/devkafka/broker-probe.ts'

test('a connection reset mid-probe rejects the probe and nothing else', async () => {
  const uncaught: unknown[] = []
  const onUncaught = (error: unknown) => uncaught.push(error)
  process.on('uncaughtException', onUncaught)
  // Accepts, waits for the request, then resets the connection (RST).
  const server = createServer((socket: Socket) => socket.once('data', () => socket.resetAndDestroy()))
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve))
  const address = { host: '127.0.0.1', port: (server.address() as { port: number }).port }
  try {
    await assert.rejects(probeBroker(address, 2000))
    const facts = { features: { 'share.version': 1 }, apiMaxVersions: new Map([[76, 1]]) }
    const reason = await shareGroupsUnavailableReason(address, facts).catch((e: unknown) => e)
    assert.ok(reason, 'the share probe reports a failure')
    await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual(uncaught, [])
  } finally {
    process.off('uncaughtException', onUncaught)
    server.close()
  }
})
