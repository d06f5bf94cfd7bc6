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
}

export const PROCESSING_DEFAULTS: Readonly<ProcessingSettings> = Object.freeze({
  style: 'continuous',
  capacity: 100,
  ordering: 'partition',
  maxPollRecords: 500,
  commitIntervalMs: 1000,
})

/** The `processing` contract of a consumer group's topics. */
export const processingContract = processingContractWith('partition', ['partition', 'key', 'unordered'])

/** The `processing` contract of a share group's topics: unordered by default, no partition ordering. */
export const shareProcessingContract = processingContractWith('unordered', ['key', 'unordered'])

function processingContractWith<const O extends readonly [Ordering, ...Ordering[]]>(
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
  }) satisfies z.ZodType<ProcessingSettings, ProcessingOptions>
}
