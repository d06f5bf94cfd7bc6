import { MultilaneError } from '../../errors.ts'

/** Error codes raised by the classic consumer-group protocol layer. */
export type ClassicProtocolErrorCode = 'CONSUMER_PROTOCOL_MALFORMED' | 'UNKNOWN_ASSIGNOR'

/**
 * A classic consumer-group failure: subscription or assignment bytes that cannot be decoded
 * (`CONSUMER_PROTOCOL_MALFORMED`, `message` names the message, field and byte), or a group whose
 * chosen strategy this member has no assignor for (`UNKNOWN_ASSIGNOR`).
 */
export class ClassicProtocolError extends MultilaneError<ClassicProtocolErrorCode> {}
