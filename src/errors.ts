import type { ErrorCode } from './error-codes.ts'

export { ERROR_CODES, type ErrorCode } from './error-codes.ts'

/**
 * The base of every error multilane throws: `code` names the failure (stable, for programs;
 * every code is listed with its meaning in {@link ERROR_CODES}), `name` the class, `message`
 * what happened and what to do (for people), `cause` the underlying error when there is one.
 */
export class MultilaneError<Code extends ErrorCode = ErrorCode> extends Error {
  readonly code: Code

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}
