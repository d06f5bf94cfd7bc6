/** `retries`: how often and how fast a failed record is tried again. */
import type { z } from 'zod'
import type { BackoffSettings } from '../definition.ts'
import { boolean, integerAtLeast, oneOf, options } from './rules.ts'

/** What users write under `retries.backoff`. */
export interface RetryBackoffOptions {
  /** Delay before the first retry (default 1000). */
  initialMs?: number
  /** Upper bound of any delay, ≥ initialMs (default 30000, or initialMs when that is larger). */
  maxMs?: number
  /** Double the delay on every further attempt (default true). */
  exponential?: boolean
}

/** What users write under `retries`. */
export interface RetryOptions {
  /**
   * Failures of a record before it goes to the dead letter queue, or is given up on (default 3).
   * `deadLetterQueue.maxRetries` sets the same thing.
   */
  maxRetries?: number
  backoff?: RetryBackoffOptions
  /**
   * Share groups only: `'local'` (default) retries in this member after the backoff, its lock
   * renewed meanwhile; `'redeliver'` releases the record to the group (any member may get it,
   * its delivery count grows, and earlier deliveries count as failures).
   */
  mode?: 'local' | 'redeliver'
}

export const RETRY_DEFAULTS = Object.freeze({
  maxRetries: 3,
  backoff: Object.freeze({ initialMs: 1000, maxMs: 30_000, exponential: true }),
})

const backoffContract = options({
  initialMs: integerAtLeast(0).default(RETRY_DEFAULTS.backoff.initialMs),
  maxMs: integerAtLeast(0).optional(),
  exponential: boolean().default(RETRY_DEFAULTS.backoff.exponential),
})
  .superRefine((backoff, ctx) => {
    if (backoff.maxMs !== undefined && backoff.maxMs < backoff.initialMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxMs'],
        message: `must be ≥ retries.backoff.initialMs (${backoff.initialMs})`,
      })
    }
  })
  // An initialMs above the default cap raises the cap rather than failing on a value the user never wrote.
  .transform(
    (backoff): BackoffSettings => ({
      ...backoff,
      maxMs: backoff.maxMs ?? Math.max(RETRY_DEFAULTS.backoff.maxMs, backoff.initialMs),
    }),
  )

/**
 * The `retries` contract. `maxRetries` stays undefined when not given: the topic resolves it
 * together with `deadLetterQueue.maxRetries` (see topic.ts) and applies the default.
 */
export const retriesContract = options({
  maxRetries: integerAtLeast(0).optional(),
  backoff: backoffContract.prefault({}),
  mode: oneOf(['local', 'redeliver']).optional(),
}) satisfies z.ZodType<
  { maxRetries?: number; backoff: BackoffSettings; mode?: 'local' | 'redeliver' },
  RetryOptions
>
