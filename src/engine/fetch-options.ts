import type { AutoOffsetReset, IsolationLevel } from './offset-resolver.ts'
import type { PositionReset } from './types.ts'

/** Fetch request sizing. */
export interface FetchOptions {
  /** How long the broker may hold a fetch waiting for `minBytes` (default 500 ms). */
  maxWaitMs: number
  /** Bytes the broker waits for before answering (default 1). */
  minBytes: number
  /** Upper bound of one response (default 16 MiB; the broker may exceed it by one batch). */
  maxBytes: number
  /** Upper bound per partition and response (default 1 MiB; idem). */
  maxPartitionBytes: number
}

/**
 * Memory bounds. A partition is not fetched while its buffer or the total is at a limit, so
 * buffered memory stays within the limits plus at most one fetch response per leader
 * (Kafka returns at least one record batch even when it is larger than the limit).
 */
export interface BufferLimits {
  maxRecordsPerPartition: number
  maxBytesPerPartition: number
  maxRecords: number
  maxBytes: number
}

export const DEFAULT_FETCH_OPTIONS: FetchOptions = {
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 16 * 1024 * 1024,
  maxPartitionBytes: 1024 * 1024,
}

export const DEFAULT_BUFFER_LIMITS: BufferLimits = {
  maxRecordsPerPartition: 10_000,
  maxBytesPerPartition: 8 * 1024 * 1024,
  maxRecords: 50_000,
  maxBytes: 64 * 1024 * 1024,
}

export interface FetcherOptions {
  fetch: FetchOptions
  buffer: BufferLimits
  isolationLevel: IsolationLevel
  autoOffsetReset: AutoOffsetReset
}

export interface FetcherEvents {
  /**
   * A partition's position moved: records handed over before it are from the old position,
   * records after it from the new one. Emitted synchronously, before any record of the new
   * position can be taken.
   */
  position_reset: [PositionReset]
  /** A fetch or a partition failed; the fetcher retries on its own. */
  fetch_error: [{ error: Error; nodeId?: number; topic?: string; partition?: number }]
}
