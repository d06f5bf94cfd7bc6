import { type TakeablePartition, takeFairly } from '../fair-take.ts'
import type { IntakeLimit } from '../types.ts'
import type { SharePartition } from './share-partition.ts'
import type { ShareRecord, ShareRecords } from './types.ts'

/** What a take tells the share consumer about each partition it touched. */
export interface ShareTakeHost {
  /** Records whose lock expired while buffered: released instead of taken. */
  lockLost(p: SharePartition, offsets: number[]): void
  /** Records were taken (or released) from `p`: its session may fetch or acknowledge again. */
  touched(p: SharePartition): void
}

/** A share partition as {@link takeFairly} takes from it (one per partition and take). */
class Takeable implements TakeablePartition<ShareRecord> {
  readonly p: SharePartition
  readonly key: string
  readonly #now: number
  readonly #host: ShareTakeHost

  constructor(p: SharePartition, now: number, host: ShareTakeHost) {
    this.p = p
    this.key = p.key
    this.#now = now
    this.#host = host
  }

  available(): number {
    return this.p.buffered
  }

  /** Fewer than `n` when some locks expired: those are released, and the share goes to the others. */
  take(n: number): ShareRecord[] {
    const { records, expired } = this.p.take(n, this.#now)
    if (expired.length > 0) this.#host.lockLost(this.p, expired)
    this.#host.touched(this.p)
    return records
  }

  setRefused(refused: boolean): void {
    this.p.refused = refused
  }
}

/**
 * Takes up to `max` buffered records from `partitions` (starting at `start`), spread evenly
 * with {@link takeFairly} as the group consumer's fetcher takes: one partition with a deep
 * buffer cannot take the whole `max` and starve the others on this member. Each partition's
 * share is capped by `limit`. Records whose lock expired while buffered are released instead
 * (reported through `host.lockLost`).
 */
export function takeShareRecords(
  partitions: readonly SharePartition[],
  start: number,
  max: number,
  limit: IntakeLimit | undefined,
  now: number,
  host: ShareTakeHost,
): ShareRecords[] {
  const n = partitions.length
  const candidates: Takeable[] = []
  for (let i = 0; i < n; i++) {
    const p = partitions[(start + i) % n]!
    if (p.buffered > 0) candidates.push(new Takeable(p, now, host))
  }
  const out: ShareRecords[] = []
  for (const [t, records] of takeFairly<ShareRecord, Takeable>(candidates, max, limit)) {
    if (records.length > 0) out.push({ topic: t.p.topic, partition: t.p.partition, records })
  }
  return out
}
