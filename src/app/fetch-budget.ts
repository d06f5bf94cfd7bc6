// What one app process holds of fetched records not yet taken, over all its consumer-group
// members: the engine's buffer limits, split between the members the process runs (one per
// placed segment). Measured by the soak (RELIABILITY.md § Soak and memory): with the engine's
// own limits per member (50,000 records, 64 MiB) a member over a backlog of 1 KiB records sat at
// 330–390 MB RSS, and two segments in one process at 430–470 MB, since the buffered records keep
// their fetch responses alive and V8 sizes the heap to what survives; half of that buffer, which
// is still seconds of work for any handler, kept a member at about 240 MB.
import { type BufferLimits, DEFAULT_BUFFER_LIMITS } from '../engine/fetch-options.ts'

/** Fetched records an app process buffers, over all its consumer-group members. */
export const APP_FETCH_BUFFER = { maxRecords: 25_000, maxBytes: 32 * 1024 * 1024 } as const

/** Below these a member's share would starve it (a fetch returns at least one batch anyway). */
const MIN_RECORDS = 1000
const MIN_BYTES = 1024 * 1024

/** The buffer limits of each of `members` consumer-group members in one process. */
export function memberBufferLimits(members: number): BufferLimits {
  const n = Math.max(1, Math.floor(members))
  const maxRecords = Math.max(MIN_RECORDS, Math.floor(APP_FETCH_BUFFER.maxRecords / n))
  const maxBytes = Math.max(MIN_BYTES, Math.floor(APP_FETCH_BUFFER.maxBytes / n))
  return {
    maxRecords,
    maxBytes,
    maxRecordsPerPartition: Math.min(DEFAULT_BUFFER_LIMITS.maxRecordsPerPartition, maxRecords),
    maxBytesPerPartition: Math.min(DEFAULT_BUFFER_LIMITS.maxBytesPerPartition, maxBytes),
  }
}
