import { MultilaneError } from '../errors.ts'

/** Error codes of the `multilane` commands that talk to a cluster; each message names the fix. */
export type CliErrorCode =
  | 'NO_BROKER'
  | 'BROKER_UNREACHABLE'
  | 'TOPIC_EXISTS'
  | 'TOPIC_CREATE_FAILED'
  | 'TOPIC_NOT_READY'
  | 'APP_MODULE_NOT_FOUND'
  | 'APP_MODULE_IMPORT_FAILED'
  | 'APP_MODULE_INVALID'

/** A failure of a `multilane` command against a cluster (exit code 1). */
export class CliError extends MultilaneError<CliErrorCode> {}

/** An error as the CLI prints it: `[CODE] message` (the code when it has one). */
export function describeError(error: unknown): string {
  const e = error as (Error & { code?: unknown }) | undefined
  const code = typeof e?.code === 'string' ? `[${e.code}] ` : ''
  return `${code}${e?.message ?? String(error)}`
}
