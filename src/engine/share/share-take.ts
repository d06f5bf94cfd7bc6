import type { IntakeLimit } from '../types.ts'
import type { SharePartition } from './share-partition.ts'
import type { ShareRecords } from './types.ts'

/** What a take tells the share consumer about each partition it touched. */
export interface ShareTakeHost {
  /** Records whose lock expired while buffered: released instead of taken. */
  lockLost(p: SharePartition, offsets: number[]): void
  /** Records were taken (or released) from `p`: its session may fetch or acknowledge again. */
  touched(p: SharePartition): void
}

/**
 * Takes up to `max` buffered records from `partitions` (starting at `start`, round-robin), each
 * partition's share capped by `limit`. Records whose lock expired while buffered are released
 * instead (reported through `host.lockLost`).
 */
export function takeShareRecords(
  partitions: readonly SharePartition[],
  start: number,
  max: number,
  limit: IntakeLimit | undefined,
  now: number,
  host: ShareTakeHost,
): ShareRecords[] {
  const out: ShareRecords[] = []
  const n = partitions.length
  let remaining = max
  for (let i = 0; i < n && remaining > 0; i++) {
    const p = partitions[(start + i) % n]!
    if (p.buffered === 0) continue
    let wanted = Math.min(remaining, p.buffered)
    if (limit) {
      wanted = Math.max(0, Math.min(wanted, Math.floor(limit(p.key, wanted))))
      p.refused = wanted === 0
    }
    if (wanted === 0) continue
    const { records, expired } = p.take(wanted, now)
    if (expired.length > 0) host.lockLost(p, expired)
    if (records.length > 0) {
      out.push({ topic: p.topic, partition: p.partition, records })
      remaining -= records.length
    }
    host.touched(p)
  }
  return out
}
