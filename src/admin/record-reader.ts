/**
 * Reads given offset ranges of partitions once: a standalone fetch with the engine's Fetcher,
 * outside any group (nothing is joined or committed). `segments collapse` reads the records
 * between the segments' positions to decide which are done; `segments check` reads a sample.
 */
import { DEFAULT_BUFFER_LIMITS, DEFAULT_FETCH_OPTIONS, Fetcher } from '../engine/fetcher.ts'
import type { IsolationLevel } from '../engine/offset-resolver.ts'
import { type ConsumerRecord, partitionKey, type TopicPartition } from '../engine/types.ts'
import type { KafkaCluster } from '../kafka/cluster.ts'
import { SegmentOffsetsError } from './segment-offsets/errors.ts'

/** Offsets [from, to) of a partition. */
export interface ReadRange extends TopicPartition {
  from: number
  to: number
}

export interface ReadRangesOptions {
  isolationLevel: IsolationLevel
  /** Fails when no partition advanced for this long (default 30 s). */
  stallTimeoutMs?: number
}

/**
 * Called with each range's records in offset order; every offset below `readUntil` has been
 * handed over or is a gap (compacted, a transaction marker, an aborted record).
 */
export type OnRangeRecords = (range: ReadRange, records: ConsumerRecord[], readUntil: number) => void

/** Reads every range to its end; throws RECORDS_READ_FAILED naming the partition when one stalls. */
export async function readRanges(
  cluster: KafkaCluster,
  ranges: readonly ReadRange[],
  options: ReadRangesOptions,
  onRecords: OnRangeRecords,
): Promise<void> {
  const pending = new Map<string, ReadRange & { at: number }>()
  for (const r of ranges)
    if (r.from < r.to) pending.set(partitionKey(r.topic, r.partition), { ...r, at: r.from })
  if (pending.size === 0) return
  const fetcher = new Fetcher(cluster, {
    fetch: { ...DEFAULT_FETCH_OPTIONS, maxWaitMs: 200 },
    buffer: DEFAULT_BUFFER_LIMITS,
    isolationLevel: options.isolationLevel,
    autoOffsetReset: 'earliest',
  })
  let lastError: Error | undefined
  fetcher.on('fetch_error', ({ error }) => {
    lastError = error
  })
  // The log start passed the position (retention deleted records meanwhile): the records
  // skipped are gone, read as gaps.
  fetcher.on('position_reset', (reset) => {
    const range = pending.get(partitionKey(reset.topic, reset.partition))
    if (range && reset.to > range.at) {
      range.at = Math.min(reset.to, range.to)
      onRecords(range, [], range.at)
    }
  })
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000
  try {
    await fetcher.add(
      [...pending.values()].map((r) => ({ topic: r.topic, partition: r.partition, position: r.from })),
    )
    let progressAt = Date.now()
    while (pending.size > 0) {
      await fetcher.waitForRecords(250)
      for (const taken of fetcher.takeRecords(10_000)) {
        const key = partitionKey(taken.topic, taken.partition)
        const range = pending.get(key)
        if (!range) continue
        const records = taken.records.filter((r) => r.offset >= range.at && r.offset < range.to)
        range.at = Math.min(Math.max(range.at, taken.nextOffset), range.to)
        onRecords(range, records, range.at)
        progressAt = Date.now()
        if (range.at >= range.to) {
          pending.delete(key)
          fetcher.remove([taken])
        }
      }
      if (pending.size > 0 && Date.now() - progressAt > stallTimeoutMs) {
        const stuck = [...pending.values()].map(
          (r) => `${r.topic}#${r.partition} at ${r.at} of [${r.from}, ${r.to})`,
        )
        throw new SegmentOffsetsError(
          'RECORDS_READ_FAILED',
          `Reading records made no progress for ${stallTimeoutMs / 1000} s: ${stuck.join(', ')}` +
            (lastError ? ` (last error: ${lastError.message})` : ''),
        )
      }
    }
  } finally {
    await fetcher.close()
  }
}
