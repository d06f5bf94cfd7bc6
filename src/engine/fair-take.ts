import type { ConsumerRecord, IntakeLimit } from './types.ts'

/** A partition records can be taken from. */
export interface TakeablePartition<R extends ConsumerRecord = ConsumerRecord> {
  /** Its {@link partitionKey}. */
  readonly key: string
  /** Records it holds now. */
  available(): number
  /** Removes and returns its next `n` records (n ≤ available(); fewer when some cannot be handed out). */
  take(n: number): R[]
  /** The taker's limit refused it (or granted some again) in this take. */
  setRefused(refused: boolean): void
}

/**
 * Takes up to `max` records from `partitions` (in the order given), spread evenly: each pass
 * splits what is left of `max` among the partitions that may still give records, and a
 * partition that had fewer than its share leaves the rest to the others. `limit` caps each
 * partition's share. Returns the records taken per partition, in offset order. Used by both
 * engines (the group consumer's fetcher and the share consumer), so their takes cannot drift.
 */
export function takeFairly<R extends ConsumerRecord, P extends TakeablePartition<R>>(
  partitions: readonly P[],
  max: number,
  limit: IntakeLimit | undefined,
): Map<P, R[]> {
  const taken = new Map<P, R[]>()
  let open = partitions.filter((p) => p.available() > 0)
  let remaining = max
  while (remaining > 0 && open.length > 0) {
    const again: P[] = []
    let left = open.length
    for (const p of open) {
      const share = Math.ceil(remaining / left--)
      let wanted = Math.min(share, p.available())
      if (wanted > 0 && limit) {
        wanted = Math.max(0, Math.min(wanted, Math.floor(limit(p.key, wanted))))
        p.setRefused(wanted === 0)
      }
      if (wanted <= 0) continue
      const records = p.take(wanted)
      remaining -= records.length
      const list = taken.get(p)
      if (list) for (const r of records) list.push(r)
      else taken.set(p, records)
      if (p.available() > 0 && records.length === share) again.push(p)
    }
    open = again
  }
  return taken
}
