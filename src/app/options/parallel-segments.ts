/** `g.parallelSegments({...})`: one consumer group split into `count` Kafka groups (segments). */
import type { z } from 'zod'
import type { ConsumedRecord } from '../../processing/record.ts'
import { routingFingerprint } from '../../segments/fingerprint.ts'
import { defaultSegmentReducer } from '../../segments/reducers.ts'
import { SHOWS_INPUT } from '../configuration-error.ts'
import { fn, integerAtLeast, nonEmptyString, oneOf, options } from './rules.ts'

/** What users write in `g.parallelSegments({...})`. */
export interface ParallelSegmentsOptions {
  /** Segments (Kafka groups) the group is split into; 1 disables segments. Required. */
  count: number
  /**
   * The routing key of a record: records with equal keys go to the same segment. Gets the raw
   * record (key, headers, topic; reading `payload` deserializes it — the slow path). Required
   * when count > 1.
   */
  partitioner?: (record: ConsumedRecord<unknown>) => unknown
  /** Maps a partitioner value to a segment id in [0, count). Default: {@link defaultSegmentReducer}; `karafkaReducer` for Karafka's. */
  reducer?: (value: unknown, count: number) => number
  /** Between the group's name and the segment id in the Kafka group names (default `-parallel-`). */
  mergeKey?: string
  /**
   * Identifies the routing in the fingerprint instead of the partitioner's and reducer's source
   * text: set it (and change it) when their code changes in ways that do (not) change routing.
   */
  routingVersion?: string
  /** A member that finds another routing's fingerprint: `'refuse'` (default: fatal error) or `'warn'` (process anyway). */
  onMismatch?: 'refuse' | 'warn'
}

/** The resolved settings of a segmented group. */
export interface ParallelSegmentsSettings {
  count: number
  partitioner: (record: ConsumedRecord<unknown>) => unknown
  reducer: (value: unknown, count: number) => number
  mergeKey: string
  routingVersion?: string
  onMismatch: 'refuse' | 'warn'
  /** The routing fingerprint stored in each segment's commit metadata. */
  fingerprint: string
}

export const PARALLEL_SEGMENTS_DEFAULTS = Object.freeze({
  count: 1,
  mergeKey: '-parallel-',
  onMismatch: 'refuse' as const,
})

const noPartitioner = () => null

export const parallelSegmentsContract = options({
  count: integerAtLeast(1),
  partitioner: fn<ParallelSegmentsSettings['partitioner']>().optional(),
  reducer: fn<ParallelSegmentsSettings['reducer']>().default(() => defaultSegmentReducer),
  mergeKey: nonEmptyString().default(PARALLEL_SEGMENTS_DEFAULTS.mergeKey),
  routingVersion: nonEmptyString().optional(),
  onMismatch: oneOf(['refuse', 'warn']).default(PARALLEL_SEGMENTS_DEFAULTS.onMismatch),
})
  .superRefine((s, ctx) => {
    if (s.partitioner?.constructor.name === 'AsyncFunction') {
      ctx.addIssue({
        code: 'custom',
        path: ['partitioner'],
        message:
          'must return the routing key itself, not a Promise (it is an async function): every record would go to one segment',
      })
    }
    if (s.count > 1 && s.partitioner === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['partitioner'],
        message: `is required with count ${s.count}: give a function of the record (e.g. (r) => r.headers.get('user_id'))`,
        params: SHOWS_INPUT,
      })
    }
  })
  .transform((s): ParallelSegmentsSettings => {
    const settings = { ...s, partitioner: s.partitioner ?? noPartitioner }
    return { ...settings, fingerprint: routingFingerprint(settings) }
  }) satisfies z.ZodType<ParallelSegmentsSettings, ParallelSegmentsOptions>
