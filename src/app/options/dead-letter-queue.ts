/** `deadLetterQueue`: where records go once their retries are exhausted. */
import type { z } from 'zod'
import { boolean, integerAtLeast, options, topicName } from './rules.ts'

/** What users write under `deadLetterQueue`. */
export interface DeadLetterQueueOptions {
  /** The topic failed records are written to (required; must differ from the consumed topic). */
  topic: string
  /**
   * Failures before a record is dispatched; the same setting as `retries.maxRetries` (default 3),
   * given here for convenience. Setting both to different values is an error.
   */
  maxRetries?: number
  /** Count failures per record (true, default) or per lane across records until it runs dry (false, Karafka parity). */
  independent?: boolean
}

// Per-record counting by default: with Karafka's lane-wide counting (false) a record can be
// dead-lettered after fewer failures of its own than maxRetries, which surprises users.
export const DEAD_LETTER_QUEUE_DEFAULTS = Object.freeze({ independent: true })

export const deadLetterQueueContract = options({
  topic: topicName(),
  maxRetries: integerAtLeast(0).optional(),
  independent: boolean().default(DEAD_LETTER_QUEUE_DEFAULTS.independent),
}) satisfies z.ZodType<{ topic: string; maxRetries?: number; independent: boolean }, DeadLetterQueueOptions>
