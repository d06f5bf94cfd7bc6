// Authorization failures: one message that names the principal, what was refused, the Kafka
// error and the ACL needed; the Kafka error name stays readable for the error classification.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  AuthorizationError,
  findAuthorizationError,
  isAuthorizationError,
  memberAuthorizationMessage,
  principalOf,
} from '../../../src/kafka/authorization.ts'
import { protocolErrorName } from '../../../src/kafka/protocol-errors.ts'

test('a member refused READ on its topics: the topics, the group, the principal and the ACL needed', () => {
  const message = memberAuthorizationMessage(
    'TOPIC_AUTHORIZATION_FAILED',
    { kind: 'consumer', groupId: 'g', topics: ['a', 'b'], principal: 'User:app' },
    new Error('x'),
  )
  assert.equal(
    message,
    'not authorized to read topics "a", "b" in group "g" as "app" (User:app): TOPIC_AUTHORIZATION_FAILED; ' +
      'the principal needs READ on topics "a", "b" (DESCRIBE is implied) (see docs/security.md)',
  )
})

test('a share member refused READ on its group; without SASL no principal is claimed', () => {
  const message = memberAuthorizationMessage(
    'GROUP_AUTHORIZATION_FAILED',
    { kind: 'share', groupId: 'jobs', topics: ['t'], principal: undefined },
    new Error('x'),
  )
  assert.equal(
    message,
    'not authorized to join share group "jobs": GROUP_AUTHORIZATION_FAILED; the principal needs READ on share group "jobs" (DESCRIBE is implied) (see docs/security.md)',
  )
})

test('other errors are not authorization errors; an AuthorizationError keeps its own message and Kafka error', () => {
  assert.equal(
    memberAuthorizationMessage(
      'GROUP_MAX_SIZE_REACHED',
      { kind: 'consumer', groupId: 'g', topics: [], principal: undefined },
      new Error('x'),
    ),
    undefined,
  )
  assert.equal(isAuthorizationError('CLUSTER_AUTHORIZATION_FAILED'), true)
  assert.equal(isAuthorizationError('NOT_COORDINATOR'), false)
  const error = new AuthorizationError({
    kafkaError: 'GROUP_AUTHORIZATION_FAILED',
    action: 'find the coordinator of group "g"',
    needs: 'DESCRIBE on group "g"',
    principal: principalOf({ sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'secret-pw' } }),
  })
  assert.equal(error.code, 'AUTHORIZATION_FAILED')
  assert.equal(protocolErrorName(error), 'GROUP_AUTHORIZATION_FAILED')
  assert.equal(
    memberAuthorizationMessage(
      'GROUP_AUTHORIZATION_FAILED',
      { kind: 'consumer', groupId: 'g', topics: [], principal: 'User:u' },
      error,
    ),
    error.message,
  )
  assert.ok(!error.message.includes('secret-pw'))
})

test('findAuthorizationError: the Kafka error name a few levels down a client error, or undefined', () => {
  const produce = {
    message: 'Producing messages failed.',
    errors: [{ message: 'Received response with error', errors: [{ apiId: 'TOPIC_AUTHORIZATION_FAILED' }] }],
  }
  assert.equal(findAuthorizationError(produce), 'TOPIC_AUTHORIZATION_FAILED')
  assert.equal(
    findAuthorizationError({ cause: { apiId: 'CLUSTER_AUTHORIZATION_FAILED' } }),
    'CLUSTER_AUTHORIZATION_FAILED',
  )
  assert.equal(findAuthorizationError({ errors: [{ apiId: 'NOT_LEADER_OR_FOLLOWER' }] }), undefined)
  assert.equal(findAuthorizationError(new Error('x')), undefined)
})
