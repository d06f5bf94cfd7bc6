/** `app.consumerGroup(name, …)` and `g.options({...})`: group-wide settings. */
import { z } from 'zod'
import { SHOWS_INPUT } from '../configuration-error.ts'
import type { ConsumerGroupSettings } from '../definition.ts'
import { integerAtLeast, nonEmptyString, oneOf, options } from './rules.ts'

/** What users write in `g.options({...})`; every field has a default. */
export interface ConsumerGroupOptions {
  /** Where a partition without a committed offset starts (default `'earliest'`). */
  autoOffsetReset?: 'earliest' | 'latest'
  /** `'read_committed'` skips aborted transactional records (default `'read_uncommitted'`). */
  isolationLevel?: 'read_uncommitted' | 'read_committed'
  /** Static membership: a stable id per process keeps its partitions across restarts. */
  groupInstanceId?: string
  /** How long the coordinator waits for a member to give up revoked partitions (default 60000). */
  rebalanceTimeoutMs?: number
  /** How long a revocation may drain in-flight records, < rebalanceTimeoutMs (default 30000). */
  revokeTimeoutMs?: number
}

export const CONSUMER_GROUP_DEFAULTS: Readonly<ConsumerGroupSettings> = Object.freeze({
  autoOffsetReset: 'earliest',
  isolationLevel: 'read_uncommitted',
  rebalanceTimeoutMs: 60_000,
  revokeTimeoutMs: 30_000,
})

export const consumerGroupSettingsContract = options({
  autoOffsetReset: oneOf(['earliest', 'latest']).default(CONSUMER_GROUP_DEFAULTS.autoOffsetReset),
  isolationLevel: oneOf(['read_uncommitted', 'read_committed']).default(
    CONSUMER_GROUP_DEFAULTS.isolationLevel,
  ),
  groupInstanceId: nonEmptyString().optional(),
  rebalanceTimeoutMs: integerAtLeast(1).default(CONSUMER_GROUP_DEFAULTS.rebalanceTimeoutMs),
  revokeTimeoutMs: integerAtLeast(0).default(CONSUMER_GROUP_DEFAULTS.revokeTimeoutMs),
}).superRefine((settings, ctx) => {
  // The drain must end (and the revocation be acknowledged) before the coordinator gives up on the member.
  if (settings.revokeTimeoutMs >= settings.rebalanceTimeoutMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['revokeTimeoutMs'],
      // The value may be the default, which the input does not show: say it here.
      message: `must be < rebalanceTimeoutMs (${settings.rebalanceTimeoutMs}), or the coordinator fences the member while it drains (got ${settings.revokeTimeoutMs})`,
      params: SHOWS_INPUT,
    })
  }
}) satisfies z.ZodType<ConsumerGroupSettings, ConsumerGroupOptions>

// Control characters (C0, DEL, C1) make names unreadable in logs and CLI output.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

export const GROUP_NAME_RULE =
  'must be a non-empty string of at most 249 characters without control characters'

/** The group name rule. */
export const consumerGroupNameContract = z.custom<string>(
  (v) => typeof v === 'string' && v.length > 0 && v.length <= 249 && !CONTROL.test(v),
  { error: GROUP_NAME_RULE },
)
