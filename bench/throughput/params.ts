// What the throughput benchmark consumes: a topic of `records` records of `bytes`-byte values over
// `partitions` partitions. The topic name is derived from these, so a preloaded topic is reused.
import type { FlagSpec, FlagValue } from './flags.ts'
import { intFlag } from './flags.ts'

export interface TopicParams {
  records: number
  bytes: number
  partitions: number
}

export const DEFAULT_PARAMS: TopicParams = { records: 1_000_000, bytes: 1024, partitions: 6 }

/**
 * Largest value size: the preloader puts at least one record in a produce batch, and a batch
 * must stay under the broker's default `message.max.bytes` (1 MiB).
 */
export const MAX_VALUE_BYTES = 512 * 1024

export const TOPIC_FLAGS: Record<string, FlagSpec> = {
  records: {
    kind: 'int',
    min: 1,
    max: 1_000_000_000,
    description: `records in the topic (default ${DEFAULT_PARAMS.records})`,
  },
  bytes: {
    kind: 'int',
    min: 1,
    max: MAX_VALUE_BYTES,
    description: `bytes per record value (default ${DEFAULT_PARAMS.bytes})`,
  },
  partitions: {
    kind: 'int',
    min: 1,
    max: 1000,
    description: `partitions of the topic (default ${DEFAULT_PARAMS.partitions})`,
  },
}

export function topicParams(flags: Map<string, FlagValue>): TopicParams {
  return {
    records: intFlag(flags, 'records', DEFAULT_PARAMS.records),
    bytes: intFlag(flags, 'bytes', DEFAULT_PARAMS.bytes),
    partitions: intFlag(flags, 'partitions', DEFAULT_PARAMS.partitions),
  }
}

/** e.g. `bench-throughput-1000000x1024-p6`. */
export function topicName({ records, bytes, partitions }: TopicParams): string {
  return `bench-throughput-${records}x${bytes}-p${partitions}`
}
