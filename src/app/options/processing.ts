/** `processing`: how a topic's records are taken, run and committed. */
import type { z } from 'zod'
import type { Ordering, ProcessingSettings, ProcessingStyle } from '../definition.ts'
import { integerAtLeast, oneOf, options } from './rules.ts'

/** What users write under `processing`; every field has a default. */
export interface ProcessingOptions {
  /** `'blocking'`: poll → process the batch → commit → poll. `'continuous'` (default): decoupled, up to `capacity` in flight. */
  style?: ProcessingStyle
  /** Records taken and not yet finished, per group member (default 100). */
  capacity?: number
  /**
   * `'partition'` (consumer groups' default), `'key'` (virtual partitions) or `'unordered'`
   * (share groups' default; share groups have no `'partition'`: a partition's records go to many members).
   */
  ordering?: Ordering
  /** Blocking style: records per poll (default 500). */
  maxPollRecords?: number
  /** How often finished offsets are committed (default 1000). */
  commitIntervalMs?: number
  /**
   * Continuous style, consumer groups: commit as soon as this many records finished since the
   * last commit, without waiting for `commitIntervalMs` (default: `capacity`, at least 100). A
   * crash then replays at most the records in flight plus about this many finished ones.
   */
  commitAfterRecords?: number
}

export const PROCESSING_DEFAULTS: Readonly<ProcessingSettings> = Object.freeze({
  style: 'continuous',
  capacity: 100,
  ordering: 'partition',
  maxPollRecords: 500,
  commitIntervalMs: 1000,
})

/** Below this, commits would come every few records: more broker writes than the replays they save. */
const MIN_COMMIT_AFTER_RECORDS = 10
/** The default's floor: with a small capacity, `capacity` alone would mean a commit every few records. */
const DEFAULT_COMMIT_AFTER_RECORDS_FLOOR = 100

/**
 * `commitAfterRecords` when not given: `capacity`, at least 100. A crash replays the records in
 * flight (up to `capacity`) plus those finished since the last commit; committing after
 * `capacity` finished ones keeps the second part about as large as the first, at one commit per
 * `capacity` records (per poll's worth, as a blocking consumer commits).
 */
export function defaultCommitAfterRecords(capacity: number): number {
  return Math.max(capacity, DEFAULT_COMMIT_AFTER_RECORDS_FLOOR)
}

/** The `processing` contract of a consumer group's topics. */
export const processingContract = processingContractWith('consumer', 'partition', [
  'partition',
  'key',
  'unordered',
])

/**
 * The `processing` contract of a share group's topics: unordered by default. `'partition'` passes
 * here and is refused by the share topic contract, which says why.
 */
export const shareProcessingContract = processingContractWith('share', 'unordered', [
  'partition',
  'key',
  'unordered',
])

function processingContractWith<const O extends readonly [Ordering, ...Ordering[]]>(
  kind: 'consumer' | 'share',
  defaultOrdering: O[number],
  orderings: O,
) {
  return options({
    style: oneOf(['blocking', 'continuous']).default(PROCESSING_DEFAULTS.style),
    capacity: integerAtLeast(1).default(PROCESSING_DEFAULTS.capacity),
    ordering: oneOf(orderings).default(defaultOrdering),
    maxPollRecords: integerAtLeast(1).default(PROCESSING_DEFAULTS.maxPollRecords),
    // Below 10 ms commits would cost more than the work they record.
    commitIntervalMs: integerAtLeast(10).default(PROCESSING_DEFAULTS.commitIntervalMs),
    commitAfterRecords: integerAtLeast(MIN_COMMIT_AFTER_RECORDS).optional(),
  })
    .superRefine((processing, ctx) => {
      if (kind === 'share' && processing.commitAfterRecords !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['commitAfterRecords'],
          message:
            'applies to consumer groups only: a share group acknowledges each record as it finishes (the acknowledgements go with the next fetch)',
        })
      }
    })
    .transform(
      ({ commitAfterRecords, ...settings }): ProcessingSettings =>
        kind === 'share'
          ? settings
          : {
              ...settings,
              commitAfterRecords: commitAfterRecords ?? defaultCommitAfterRecords(settings.capacity),
            },
    ) satisfies z.ZodType<ProcessingSettings, ProcessingOptions>
}
