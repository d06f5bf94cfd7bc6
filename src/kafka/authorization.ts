// Authorization failures (ACLs): one typed error that says who was refused what on which
// resource, instead of a bare Kafka error name retried forever or shown as an opaque code.
import { MultilaneError } from '../errors.ts'
import type { KafkaConnectionOptions } from './connection-options.ts'

/** The Kafka errors an authorizer answers with, and the resource type each one is about. */
const AUTHORIZATION_ERRORS: Readonly<Record<string, AuthorizationResource>> = {
  TOPIC_AUTHORIZATION_FAILED: 'topic',
  GROUP_AUTHORIZATION_FAILED: 'group',
  CLUSTER_AUTHORIZATION_FAILED: 'cluster',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'transactional id',
}

export type AuthorizationResource = 'topic' | 'group' | 'cluster' | 'transactional id'

/** True for a Kafka error name an authorizer answers with (`TOPIC_AUTHORIZATION_FAILED`, …). */
export function isAuthorizationError(kafkaError: string | undefined): boolean {
  return kafkaError !== undefined && kafkaError in AUTHORIZATION_ERRORS
}

/**
 * The authorization error name anywhere in a client error (its own `apiId`, nested `errors`,
 * `cause`): a produce failure wraps the broker's answer a few levels deep ("Producing messages
 * failed." › ResponseError › ProtocolError).
 */
export function findAuthorizationError(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 8) return undefined
  const e = error as { apiId?: unknown; kafkaError?: unknown; errors?: unknown; cause?: unknown }
  for (const name of [e.apiId, e.kafkaError])
    if (typeof name === 'string' && isAuthorizationError(name)) return name
  const nested = [...(Array.isArray(e.errors) ? e.errors : []), e.cause]
  for (const inner of nested) {
    const found = findAuthorizationError(inner, depth + 1)
    if (found) return found
  }
  return undefined
}

/** What was refused: the operation the principal needs and the resources it was refused on. */
export interface AuthorizationFailure {
  /** The Kafka error name (`GROUP_AUTHORIZATION_FAILED`, …). */
  kafkaError: string
  /** What multilane was doing: `join group "g"`, `produce to dead letter topic "t"`. */
  action: string
  /** The ACL operations the principal needs, e.g. `READ on group "g"`. */
  needs: string
  /** `User:<sasl username>`, or undefined without SASL (the principal is then ANONYMOUS or the TLS subject). */
  principal: string | undefined
}

/**
 * The broker's authorizer refused an operation (`code` `AUTHORIZATION_FAILED`): the message
 * names the principal, what multilane was doing, the Kafka error and the ACL it needs. Not
 * retried: an ACL change is needed. Never carries credentials.
 */
export class AuthorizationError extends MultilaneError<'AUTHORIZATION_FAILED'> {
  /** The Kafka error name (`TOPIC_AUTHORIZATION_FAILED`, `GROUP_AUTHORIZATION_FAILED`, …). */
  readonly kafkaError: string
  readonly principal: string | undefined

  constructor(failure: AuthorizationFailure, options?: ErrorOptions) {
    super('AUTHORIZATION_FAILED', authorizationMessage(failure), options)
    this.kafkaError = failure.kafkaError
    this.principal = failure.principal
  }
}

/** "not authorized to <action> as "<user>" (User:<user>): <KAFKA_ERROR>; the principal needs <needs> (…)". */
export function authorizationMessage(failure: AuthorizationFailure): string {
  const who = failure.principal
    ? ` as "${failure.principal.replace(/^User:/, '')}" (${failure.principal})`
    : ''
  return `not authorized to ${failure.action}${who}: ${failure.kafkaError}; the principal needs ${failure.needs} (see docs/security.md)`
}

/** `User:<username>` of a connection with SASL; undefined without. */
export function principalOf(
  connection: Pick<KafkaConnectionOptions, 'sasl'> | undefined,
): string | undefined {
  return connection?.sasl ? `User:${connection.sasl.username}` : undefined
}

/** `"a"` or `"a", "b"` (for messages). */
export function quoted(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(', ')
}

/**
 * The message of a group member refused with `kafkaError` (a heartbeat or FindCoordinator
 * answer), or undefined when `kafkaError` is not an authorization error. The engines throw it
 * with their own error class and code `AUTHORIZATION_FAILED`.
 */
export function memberAuthorizationMessage(
  kafkaError: string | undefined,
  member: {
    kind: 'consumer' | 'share'
    groupId: string
    topics: readonly string[]
    principal: string | undefined
  },
  cause: unknown,
): string | undefined {
  if (cause instanceof AuthorizationError) return cause.message
  if (kafkaError === undefined || !isAuthorizationError(kafkaError)) return undefined
  const resource = AUTHORIZATION_ERRORS[kafkaError]
  const group = `${member.kind === 'share' ? 'share group' : 'group'} "${member.groupId}"`
  const topics = `topic${member.topics.length === 1 ? '' : 's'} ${quoted(member.topics)}`
  return authorizationMessage({
    kafkaError,
    action: resource === 'topic' ? `read ${topics} in ${group}` : `join ${group}`,
    needs:
      resource === 'topic'
        ? `READ on ${topics} (DESCRIBE is implied)`
        : resource === 'group'
          ? `READ on ${group} (DESCRIBE is implied)`
          : `the ${resource} operation the broker refused`,
    principal: member.principal,
  })
}
