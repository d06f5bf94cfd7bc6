import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MultilaneError } from '../../src/errors.ts'
import { formatBootstrap, parseBootstrap } from '../../src/kafka/bootstrap.ts'

test('parses host:port lists, IPv6 in brackets, and formats them back', () => {
  const parsed = parseBootstrap(' a:9092, [::1]:9093 ')
  assert.deepEqual(parsed, [
    { host: 'a', port: 9092 },
    { host: '::1', port: 9093 },
  ])
  assert.equal(formatBootstrap(parsed), 'a:9092,[::1]:9093')
})

test('bad entries fail with INVALID_BOOTSTRAP naming the source and the entry', () => {
  for (const [value, pattern] of [
    ['', /KAFKA_BOOTSTRAP_SERVERS: expected at least one host:port/],
    ['localhost', /KAFKA_BOOTSTRAP_SERVERS: "localhost" is not host:port/],
    ['h:70000', /"h:70000" is not host:port \(port 1-65535\)/],
  ] as const) {
    assert.throws(
      () => parseBootstrap(value, 'KAFKA_BOOTSTRAP_SERVERS'),
      (e: unknown) =>
        e instanceof MultilaneError && e.code === 'INVALID_BOOTSTRAP' && pattern.test(e.message),
    )
  }
})
