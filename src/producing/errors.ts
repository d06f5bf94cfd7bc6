import { MultilaneError } from '../errors.ts'

/** Error codes of `app.producer` and `multilane topics produce`. */
export type ProducerErrorCode =
  | 'PRODUCER_CLOSED'
  | 'PRODUCE_TOPIC_NOT_FOUND'
  | 'PRODUCE_TIMEOUT'
  | 'PRODUCE_FAILED'
  | 'INVALID_PRODUCE_RECORD'

/** A failed or refused produce: `code` says which (see {@link ERROR_CODES}). */
export class ProducerError extends MultilaneError<ProducerErrorCode> {}
