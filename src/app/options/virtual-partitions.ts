/** `virtualPartitions`: lanes inside a partition for `processing.ordering: 'key'`. */
import type { z } from 'zod'
import type { ConsumedRecord } from '../../processing/record.ts'
import { defaultLaneReducer } from '../../processing/routing/reducers.ts'
import type { VirtualPartitionsSettings } from '../definition.ts'
import { fn, integerAtLeast, options } from './rules.ts'

export { defaultLaneReducer }

/** What users write under `virtualPartitions`; every field has a default. */
export interface VirtualPartitionsOptions {
  /**
   * The ordering key of a record: records with equal keys run in order, in one lane. Read the
   * key or headers, not the payload. Default: the record key as a string (null key → null).
   */
  partitioner?: (record: ConsumedRecord<unknown>) => unknown
  /**
   * Maps a partitioner value to a lane in [0, maxPartitions). Default: {@link defaultLaneReducer}.
   * A result outside that range (or not an integer) is not checked here: the runtime treats it
   * as a reducer error (`error.occurred`, lane 0).
   */
  reducer?: (value: unknown, maxPartitions: number) => number
  /** Lanes per partition (default 16). */
  maxPartitions?: number
}

/** The record key as text; records without a key share lane 0. */
export function defaultPartitioner(record: ConsumedRecord<unknown>): string | null {
  return record.keyString
}

export const VIRTUAL_PARTITIONS_DEFAULTS: Readonly<VirtualPartitionsSettings> = Object.freeze({
  partitioner: defaultPartitioner,
  reducer: defaultLaneReducer,
  maxPartitions: 16,
})

export const virtualPartitionsContract = options({
  partitioner: fn<VirtualPartitionsSettings['partitioner']>().default(
    () => VIRTUAL_PARTITIONS_DEFAULTS.partitioner,
  ),
  reducer: fn<VirtualPartitionsSettings['reducer']>().default(() => VIRTUAL_PARTITIONS_DEFAULTS.reducer),
  maxPartitions: integerAtLeast(1).default(VIRTUAL_PARTITIONS_DEFAULTS.maxPartitions),
}).superRefine((s, ctx) => {
  if (s.partitioner.constructor.name === 'AsyncFunction') {
    ctx.addIssue({
      code: 'custom',
      path: ['partitioner'],
      message:
        'must return the ordering key itself, not a Promise (it is an async function): every record would go to one lane',
    })
  }
}) satisfies z.ZodType<VirtualPartitionsSettings, VirtualPartitionsOptions>
