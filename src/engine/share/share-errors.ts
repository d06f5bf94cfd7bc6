import { protocolErrorsCodesById } from '@platformatic/kafka'
import { MultilaneError } from '../../errors.ts'
import { errorsFlagged, kafkaErrorName } from '../../kafka/protocol-errors.ts'
import { ShareError } from './errors.ts'
import type { SharePartition } from './share-partition.ts'

/** True when `code` is a Kafka error code this client knows by name. */
export function isKnownErrorCode(code: number): boolean {
  return code === 0 || protocolErrorsCodesById[code] !== undefined
}

/**
 * A ShareError for a Kafka error code: UNKNOWN_ERROR_CODE when the code has no name here (a
 * newer broker, or a corrupted response), else KAFKA_ERROR; `kafkaError` carries the name.
 */
export function shareKafkaError(code: number, context: string, message?: string | null): ShareError {
  const name = kafkaErrorName(code)
  const detail = message ? ` (${message})` : ''
  if (!isKnownErrorCode(code)) {
    return new ShareError('UNKNOWN_ERROR_CODE', `${context}: unknown Kafka error code ${code}${detail}`, {
      kafkaError: name,
    })
  }
  return new ShareError('KAFKA_ERROR', `${context}: ${name}${detail}`, { kafkaError: name })
}

/** The error that stops the member (SESSION_FATAL) for a Kafka error no retry fixes. */
export function sessionFatal(error: ShareError): ShareError {
  return new ShareError('SESSION_FATAL', error.message, { cause: error, kafkaError: error.kafkaError })
}

/**
 * True for a session failure no retry fixes: a fatal Kafka error, an invalid option, or a broker
 * without the API versions this client implements.
 */
export function stopsTheMember(error: unknown): error is MultilaneError {
  if (error instanceof ShareError && (error.code === 'SESSION_FATAL' || error.code === 'INVALID_OPTION'))
    return true
  return error instanceof MultilaneError && error.code === 'UNSUPPORTED_API_VERSION'
}

/** Top-level errors of ShareFetch and ShareAcknowledge. */
const SESSION_ERRORS = errorsFlagged('share', 'sessionReset')
const FATAL_ERRORS = errorsFlagged('share', 'requestFatal')

/**
 * What a top-level ShareFetch / ShareAcknowledge error means: `session` (open a new session),
 * `fatal` (no retry helps), `retry` (anything else, unknown codes included: back off, then open
 * a new session to be sure the epochs agree).
 */
export function classifyRequestError(code: number): 'session' | 'fatal' | 'retry' {
  const name = kafkaErrorName(code)
  if (SESSION_ERRORS.has(name)) return 'session'
  if (FATAL_ERRORS.has(name)) return 'fatal'
  return 'retry'
}

/**
 * What a partition's ShareFetch error means: `fatal` (not authorized), `leader_moved` (the share
 * partition is not on this broker any more, nor the member's locks on it: refresh metadata), or
 * `retry` (back off).
 */
export function classifyFetchPartitionError(code: number): 'fatal' | 'leader_moved' | 'retry' {
  const name = kafkaErrorName(code)
  if (PARTITION_FATAL.has(name)) return 'fatal'
  return LOCKS_GONE.has(name) ? 'leader_moved' : 'retry'
}

const PARTITION_FATAL = errorsFlagged('share', 'partitionFatal')

/** Partition acknowledgement errors after which the member no longer holds the locks. */
const LOCKS_GONE = errorsFlagged('share', 'locksGone')
const NOT_RETRIABLE = errorsFlagged('share', 'ackFailed')

/** How a partition's acknowledgement error code settles the unit sent for it. */
export function classifyAckError(
  code: number,
  message: string | null | undefined,
  p: SharePartition,
  renewDeadline = 0,
):
  | { kind: 'ok'; renewDeadline: number }
  | { kind: 'invalid_record_state' | 'lock_lost' | 'retry' | 'failed'; error: ShareError } {
  if (code === 0) return { kind: 'ok', renewDeadline }
  const name = kafkaErrorName(code)
  const context = `acknowledging ${p.topic}#${p.partition}`
  if (name === 'INVALID_RECORD_STATE') {
    const error = new ShareError(
      'LOCK_LOST',
      `${context}: INVALID_RECORD_STATE (the lock is no longer held)`,
      {
        kafkaError: name,
      },
    )
    return { kind: 'invalid_record_state', error }
  }
  if (LOCKS_GONE.has(name)) {
    return {
      kind: 'lock_lost',
      error: new ShareError('LOCK_LOST', `${context}: ${name}`, { kafkaError: name }),
    }
  }
  const error = shareKafkaError(code, context, message)
  return { kind: NOT_RETRIABLE.has(name) ? 'failed' : 'retry', error }
}
