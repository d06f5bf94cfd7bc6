// SASL and TLS against a real broker: the local broker's SASL listener accepts PLAIN, SCRAM-SHA-256
// and SCRAM-SHA-512; a wrong password fails clearly, and the password never shows in errors.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { inspect } from 'node:util'
import { DEV_SASL_USER } from '../../../src/devkafka/broker-config.ts'
import { type LocalKafkaState, startLocalKafka, stopLocalKafka } from '../../../src/devkafka/local-broker.ts'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { BOOTSTRAP_ENV } from '../../../src/kafka/bootstrap.ts'
import { describeConnection } from '../../../src/kafka/connection-options.ts'
import { drainUntil } from '../../support/engine-member.ts'
import { createTopic, produceRecords, uniqueName } from '../../support/kafka.ts'

// A broker of its own, so the test does not depend on how the suite's broker was started.
const dir = mkdtempSync(join(tmpdir(), 'multilane-sasl-'))
const env = { ...process.env, MULTILANE_BROKER_DIR: dir }
let broker: LocalKafkaState
let savedBootstrap: string | undefined

before(async () => {
  broker = (await startLocalKafka({ env })).state
  savedBootstrap = process.env[BOOTSTRAP_ENV]
  process.env[BOOTSTRAP_ENV] = broker.bootstrap // helpers produce through the plain listener
})

after(async () => {
  process.env[BOOTSTRAP_ENV] = savedBootstrap
  await stopLocalKafka({ env })
  rmSync(dir, { recursive: true, force: true })
})

for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
  test(`${mechanism}: joins, consumes and commits over the SASL listener`, async () => {
    const topic = await createTopic(`sasl-${mechanism.toLowerCase()}`, 2)
    await produceRecords(topic, 200, { partitions: 2 })
    const consumer = new GroupConsumer({
      bootstrap: broker.saslBootstrap,
      clientId: 'sasl-test',
      groupId: uniqueName('sasl'),
      topics: [topic],
      sasl: { mechanism, ...DEV_SASL_USER },
    })
    const seen: ConsumerRecord[] = []
    try {
      await consumer.start()
      await drainUntil(consumer, seen, () => seen.length === 200, `200 records over ${mechanism}`)
      await consumer.commit([{ topic, partition: 0, offset: 100 }])
    } finally {
      await consumer.close()
    }
  })
}

test('a wrong password fails with AUTHENTICATION_FAILED and never reveals the password', async () => {
  const password = 'not-the-password-7f3a'
  const options = {
    bootstrap: broker.saslBootstrap,
    clientId: 'sasl-test',
    groupId: uniqueName('sasl-bad'),
    topics: ['anything'],
    sasl: { mechanism: 'SCRAM-SHA-256' as const, username: DEV_SASL_USER.username, password },
  }
  const consumer = new GroupConsumer(options)
  try {
    await assert.rejects(consumer.start(), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'AUTHENTICATION_FAILED')
      assert.match(error.message, /SASL authentication as "multilane" with SCRAM-SHA-256 failed/)
      assert.ok(
        !inspect(error, { depth: 20 }).includes(password),
        'the password is not in the error or its causes',
      )
      return true
    })
  } finally {
    await consumer.close()
  }
  assert.ok(
    !JSON.stringify(describeConnection(options)).includes(password),
    'describeConnection leaves it out',
  )
})

test('TLS: the engine connects to the TLS listener trusting the broker certificate', async () => {
  const { readFileSync } = await import('node:fs')
  const topic = await createTopic('tls', 1)
  await produceRecords(topic, 50, { partitions: 1 })
  const consumer = new GroupConsumer({
    bootstrap: broker.tlsBootstrap,
    clientId: 'tls-test',
    groupId: uniqueName('tls'),
    topics: [topic],
    tls: { ca: readFileSync(broker.tlsCaFile) },
  })
  const seen: ConsumerRecord[] = []
  try {
    await consumer.start()
    await drainUntil(consumer, seen, () => seen.length === 50, '50 records over TLS')
  } finally {
    await consumer.close()
  }
  // Without trusting the certificate, the connection is refused (not silently downgraded).
  const untrusting = new GroupConsumer({
    bootstrap: broker.tlsBootstrap,
    clientId: 'tls-test',
    groupId: uniqueName('tls-bad'),
    topics: [topic],
    tls: true,
  })
  try {
    await assert.rejects(untrusting.start(), /no broker reachable/)
  } finally {
    await untrusting.close()
  }
})
