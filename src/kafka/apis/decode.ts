import { protocolErrorsCodesById, type Reader } from '@platformatic/kafka'
import { MultilaneError } from '../../errors.ts'

/**
 * A response that does not follow its API version's schema (truncated, trailing bytes, a
 * length or count out of range). The request may well have been applied by the broker: callers
 * treat the outcome as unknown.
 */
export class MalformedResponseError extends MultilaneError<'MALFORMED_RESPONSE'> {
  readonly api: string
  readonly version: number

  constructor(api: string, version: number, detail: string, options?: ErrorOptions) {
    super('MALFORMED_RESPONSE', `malformed ${api} v${version} response: ${detail}`, options)
    this.api = api
    this.version = version
  }
}

/**
 * Runs a response parser and turns anything it throws, or bytes it leaves unread, into a
 * MalformedResponseError naming the API and version. Parsers built on it never throw for
 * Kafka error codes: those stay in the response for the caller to classify.
 */
export function decodeResponse<T>(api: string, version: number, reader: Reader, parse: () => T): T {
  let response: T
  try {
    response = parse()
  } catch (error) {
    if (error instanceof MalformedResponseError) throw error
    const detail = error instanceof Error ? error.message : String(error)
    throw new MalformedResponseError(api, version, `${detail} at byte ${reader.position}`, { cause: error })
  }
  if (reader.remaining !== 0) {
    throw new MalformedResponseError(api, version, `${reader.remaining} unread bytes after the last field`)
  }
  return response
}

/** A count read from the wire that cannot be right (negative where the schema forbids it). */
export function malformed(api: string, version: number, detail: string): MalformedResponseError {
  return new MalformedResponseError(api, version, detail)
}

/**
 * A response whose top-level error code is not 0, for APIs that throw on it (the heartbeats).
 * `apiId` is the Kafka error name, where `@platformatic/kafka`'s ProtocolError keeps it, so
 * `protocolErrorName()` reads both; an error code this client does not know gets the code
 * UNKNOWN_ERROR_CODE and the name `UNKNOWN_ERROR_<n>`.
 */
export class KafkaResponseError<R = unknown> extends MultilaneError<
  'KAFKA_RESPONSE_ERROR' | 'UNKNOWN_ERROR_CODE'
> {
  readonly api: string
  readonly version: number
  readonly errorCode: number
  readonly apiId: string
  readonly response: R

  constructor(
    api: string,
    version: number,
    errorCode: number,
    errorMessage: string | null | undefined,
    response: R,
  ) {
    const known = protocolErrorsCodesById[errorCode]
    const name = known ?? `UNKNOWN_ERROR_${errorCode}`
    super(
      known ? 'KAFKA_RESPONSE_ERROR' : 'UNKNOWN_ERROR_CODE',
      `${api} v${version}: ${known ? name : `unknown Kafka error code ${errorCode}`}${errorMessage ? ` (${errorMessage})` : ''}`,
    )
    this.api = api
    this.version = version
    this.errorCode = errorCode
    this.apiId = name
    this.response = response
  }
}
