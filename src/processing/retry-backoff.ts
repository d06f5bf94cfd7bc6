import { MultilaneError } from '../errors.ts'
/** Delay schedule between retries of a failed handler. */
export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds. */
  initialMs: number
  /** Upper bound of any delay, in milliseconds. */
  maxMs: number
  /** Double the delay on every further attempt; otherwise always wait initialMs. */
  exponential: boolean
}

/** 1 s doubling to 30 s, as the design's error semantics specify. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialMs: 1000,
  maxMs: 30_000,
  exponential: true,
})

/** Thrown for an attempt number that is not a positive integer. */
export class RetryBackoffError extends MultilaneError<'RETRY_BACKOFF'> {
  constructor(message: string) {
    super('RETRY_BACKOFF', message)
  }
}

// 2^64 is finite and already beyond any sane maxMs; it keeps huge attempt numbers from
// producing Infinity (and 0 * Infinity = NaN when initialMs is 0).
const MAX_EXPONENT = 64

/**
 * Delay before retry number `attempt` (1-based): initialMs, then doubling per attempt when
 * exponential, never above maxMs.
 */
export function backoffDelay(attempt: number, opts: Readonly<BackoffOptions> = DEFAULT_BACKOFF): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RetryBackoffError(`retry attempt must be a positive integer, got ${attempt}`)
  }
  const exponent = opts.exponential ? Math.min(attempt - 1, MAX_EXPONENT) : 0
  return Math.min(opts.maxMs, opts.initialMs * 2 ** exponent)
}
