/**
 * The base of every error multilane throws: `code` names the failure (stable, for programs),
 * `name` the class, `message` what happened and what to do (for people).
 */
export class MultilaneError<Code extends string = string> extends Error {
  readonly code: Code

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}
