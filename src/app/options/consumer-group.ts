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
  /** This group's protocol (default: the app's `groupProtocol`, itself `'auto'` by default). */
  groupProtocol?: 'auto' | 'consumer' | 'classic'
  /** Classic protocol: how long the coordinator keeps a silent member (default 45000). */
  sessionTimeoutMs?: number
  /** Classic protocol: time between heartbeats, < sessionTimeoutMs (default 3000). */
  heartbeatIntervalMs?: number
  /**
   * Classic protocol: the assignors offered, by preference (default `['cooperative-sticky']`:
   * incremental rebalances; a list with `range` or `roundrobin` rebalances eagerly).
   */
  assignors?: Array<'cooperative-sticky' | 'range' | 'roundrobin'>
}

export const CONSUMER_GROUP_DEFAULTS: Readonly<ConsumerGroupSettings> = Object.freeze({
  autoOffsetReset: 'earliest',
  isolationLevel: 'read_uncommitted',
  rebalanceTimeoutMs: 60_000,
  revokeTimeoutMs: 30_000,
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 3000,
  assignors: ['cooperative-sticky' as const],
})

export const consumerGroupSettingsContract = options({
  autoOffsetReset: oneOf(['earliest', 'latest']).default(CONSUMER_GROUP_DEFAULTS.autoOffsetReset),
  isolationLevel: oneOf(['read_uncommitted', 'read_committed']).default(
    CONSUMER_GROUP_DEFAULTS.isolationLevel,
  ),
  groupInstanceId: nonEmptyString().optional(),
  rebalanceTimeoutMs: integerAtLeast(1).default(CONSUMER_GROUP_DEFAULTS.rebalanceTimeoutMs),
  revokeTimeoutMs: integerAtLeast(0).default(CONSUMER_GROUP_DEFAULTS.revokeTimeoutMs),
  groupProtocol: oneOf(['auto', 'consumer', 'classic']).optional(),
  sessionTimeoutMs: integerAtLeast(1).default(CONSUMER_GROUP_DEFAULTS.sessionTimeoutMs),
  heartbeatIntervalMs: integerAtLeast(1).default(CONSUMER_GROUP_DEFAULTS.heartbeatIntervalMs),
  assignors: z
    .array(oneOf(['cooperative-sticky', 'range', 'roundrobin']))
    .min(1)
    .default(() => [...CONSUMER_GROUP_DEFAULTS.assignors]),
}).superRefine((settings, ctx) => {
  if (settings.heartbeatIntervalMs >= settings.sessionTimeoutMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['heartbeatIntervalMs'],
      message: `must be < sessionTimeoutMs (${settings.sessionTimeoutMs}), or the coordinator drops the member between heartbeats (got ${settings.heartbeatIntervalMs})`,
      params: SHOWS_INPUT,
    })
  }
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
