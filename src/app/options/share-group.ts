/** `app.shareGroup(name, …)` and `g.options({...})`: share group settings. */
import type { z } from 'zod'
import { integerAtLeast, oneOf, options } from './rules.ts'

/** What users write in a share group's `g.options({...})`; every field has a default. */
export interface ShareGroupOptions {
  /**
   * Where the group starts reading a partition it has not read yet. When given, the app sets the
   * group's `share.auto.offset.reset` config at start (the broker's default is `latest`).
   */
  autoOffsetReset?: 'earliest' | 'latest'
  /**
   * KIP-1206 (Kafka ≥ 4.2): `'batch_optimized'` (default) lets a fetch return whole batches and
   * fetch ahead; `'record_limit'` caps each fetch at the topics' `maxPollRecords` and fetches only
   * when nothing is buffered (the seed study's setting for blocking share consumers).
   */
  acquireMode?: 'batch_optimized' | 'record_limit'
  /**
   * Records this member may hold locked per partition (buffered and processing); default: the
   * group's `share.partition.max.record.locks`.
   */
  maxRecordLocks?: number
}

/** The resolved settings of a share group. */
export interface ShareGroupSettings {
  autoOffsetReset?: 'earliest' | 'latest'
  acquireMode: 'batch_optimized' | 'record_limit'
  maxRecordLocks?: number
}

export const SHARE_GROUP_DEFAULTS = Object.freeze({ acquireMode: 'batch_optimized' as const })

export const shareGroupSettingsContract = options({
  autoOffsetReset: oneOf(['earliest', 'latest']).optional(),
  acquireMode: oneOf(['batch_optimized', 'record_limit']).default(SHARE_GROUP_DEFAULTS.acquireMode),
  maxRecordLocks: integerAtLeast(1).optional(),
}) satisfies z.ZodType<ShareGroupSettings, ShareGroupOptions>
