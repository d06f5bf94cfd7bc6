import { MultilaneError } from '../../errors.ts'

/** Error codes raised by the share-group member. */
export type ShareErrorCode =
  | 'INVALID_OPTION'
  | 'CONSUMER_CLOSED'
  | 'NOT_STARTED'
  /** The coordinator refused the member for good (authorization, group full, invalid request). */
  | 'MEMBERSHIP_FATAL'
  /** The broker's authorizer refused the member (an ACL is missing: READ on the group or a topic). */
  | 'AUTHORIZATION_FAILED'
  /** A broker refused share fetching or acknowledging for good (authorization, invalid request). */
  | 'SESSION_FATAL'
  /** A Kafka error code multilane does not know (a newer broker, or a corrupted response). */
  | 'UNKNOWN_ERROR_CODE'
  /** A known Kafka error the engine recovers from by itself (reported as a warning). */
  | 'KAFKA_ERROR'
  /** The record's acquisition lock is gone: acknowledging it is not possible any more. */
  | 'LOCK_LOST'
  /** RENEW needs ShareAcknowledge v2 (Kafka ≥ 4.2) and `share.renew.acknowledge.enable=true`. */
  | 'RENEW_UNSUPPORTED'
  /** The record was already given a final acknowledgement (accept, release or reject). */
  | 'ALREADY_ACKNOWLEDGED'
  /** The broker kept refusing an acknowledgement with a retriable error. */
  | 'ACKNOWLEDGE_FAILED'
  /** The group's lock duration is too short for renewal to keep locks (a warning). */
  | 'LOCK_TOO_SHORT'

/** A share-group member failure; `code` says which, `kafkaError` the broker's error name if any. */
export class ShareError extends MultilaneError<ShareErrorCode> {
  readonly kafkaError: string | undefined

  constructor(code: ShareErrorCode, message: string, options?: ErrorOptions & { kafkaError?: string }) {
    super(code, message, options)
    this.kafkaError = options?.kafkaError
  }
}
