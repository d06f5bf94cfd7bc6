import { MultilaneError } from '../errors.ts'
/** Error codes raised by the consumer engine. */
export type EngineErrorCode =
  | 'ENGINE_NOT_STARTED'
  | 'ENGINE_CLOSED'
  | 'MEMBERSHIP_FATAL'
  | 'AUTHORIZATION_FAILED'
  | 'ASSIGNMENT_REFUSED'
  | 'COMMIT_FAILED'
  | 'PARTITION_NOT_ASSIGNED'
  | 'OFFSET_RESET_FAILED'
  | 'OFFSET_OUT_OF_SAFE_RANGE'
  | 'INVALID_OPTION'
  | 'GROUP_PROTOCOL_UNAVAILABLE'

/** An engine failure; `code` says which, `cause` carries the underlying Kafka error when any. */
export class EngineError extends MultilaneError<EngineErrorCode> {}
