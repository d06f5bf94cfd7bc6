// A broker's ports are reserved together: ports picked one socket at a time can repeat ("If you
// have two listeners on the same port…" in CI).
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { isPortClash, reservePorts } from '../../../src/devkafka/ports.ts'

test('reservePorts: every port of one reservation is distinct and free once it returns', async () => {
  for (let round = 0; round < 20; round++) {
    const ports = await reservePorts(4)
    assert.equal(new Set(ports).size, 4, `distinct: ${ports}`)
    for (const port of ports) {
      const server = createServer()
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve())
      })
      await new Promise((resolve) => server.close(resolve))
    }
  }
})

test('isPortClash recognises the bind failures a start retries', () => {
  assert.ok(
    isPortClash('KafkaException: Socket server failed to bind to 127.0.0.1:4567: Address already in use.'),
  )
  assert.ok(
    isPortClash(
      'requirement failed: If you have two listeners on the same port then one needs to be IPv4 and the other IPv6',
    ),
  )
  assert.equal(isPortClash('java.lang.OutOfMemoryError: Java heap space'), false)
})
