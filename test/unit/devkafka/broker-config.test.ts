// The local broker's server.properties: the SASL_SSL listener (when given a port) with the same
// SASL settings as the SASL listener, and ACL mode only when asked for.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { serverProperties } from '../../../src/devkafka/broker-config.ts'

const base = {
  port: 9092,
  saslPort: 9093,
  tls: { port: 9094, keystoreFile: '/k.p12', password: 'pw' },
  controllerPort: 9095,
  dataDir: '/data',
}

function settings(text: string): Map<string, string> {
  return new Map(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  )
}

test('a SASL_SSL listener: advertised, mapped to SASL_SSL, with PLAIN and SCRAM login modules', () => {
  const s = settings(serverProperties({ ...base, saslSslPort: 9096 }))
  assert.match(s.get('listeners')!, /SASL_SSL:\/\/127\.0\.0\.1:9096/)
  assert.match(s.get('advertised.listeners')!, /SASL_SSL:\/\/127\.0\.0\.1:9096/)
  assert.match(s.get('listener.security.protocol.map')!, /SASL_SSL:SASL_SSL/)
  for (const m of ['plain', 'scram-sha-256', 'scram-sha-512'])
    assert.ok(s.has(`listener.name.sasl_ssl.${m}.sasl.jaas.config`), m)
  assert.equal(s.has('authorizer.class.name'), false, 'no authorizer by default')
})

test('without a SASL_SSL port (a node recorded by an earlier launcher) the listeners are as before', () => {
  const s = settings(serverProperties(base))
  assert.doesNotMatch(s.get('listeners')!, /SASL_SSL/)
  assert.equal(s.has('listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config'), false)
})

test('ACL mode: the StandardAuthorizer, deny without an ACL, the dev user and ANONYMOUS as super users', () => {
  const s = settings(serverProperties({ ...base, saslSslPort: 9096, acls: true }))
  assert.equal(s.get('authorizer.class.name'), 'org.apache.kafka.metadata.authorizer.StandardAuthorizer')
  assert.equal(s.get('allow.everyone.if.no.acl.found'), 'false')
  assert.equal(s.get('super.users'), 'User:ANONYMOUS;User:multilane')
})
