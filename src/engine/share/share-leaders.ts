import type { KafkaCluster } from '../../kafka/cluster.ts'
import { LeaderTracker } from '../leader-tracker.ts'
import type { SharePartition } from './share-partition.ts'

/** A share session as leader tracking sees it. */
export interface LeaderSession {
  wake(): void
}

/** What the share consumer gives its leader tracking. */
export interface ShareLeadersHost {
  cluster: Pick<KafkaCluster, 'refreshMetadata'>
  /** Every partition the member knows (assigned, or still holding locks). */
  partitions(): Iterable<SharePartition>
  /** Partitions by `${topicId}:${partition}` (responses name topics by id): kept up to date here. */
  byId: Map<string, SharePartition>
  /** The session of a leader, if one runs. */
  sessionOf(nodeId: number): LeaderSession | undefined
  /** The session of a leader, started when none runs (undefined once the member is closing). */
  sessionFor(nodeId: number): LeaderSession | undefined
  warning(error: Error): void
}

/**
 * Leaders and topic ids of the share member's partitions; a session per leader. Refreshes go
 * through the {@link LeaderTracker} the group consumer's fetcher uses: while metadata cannot be
 * read or a partition has no leader, they back off 100 ms doubling to 2 s (no fixed interval,
 * no refresh per failed session request).
 */
export class ShareLeaders {
  readonly #host: ShareLeadersHost
  readonly #tracker: LeaderTracker

  constructor(host: ShareLeadersHost) {
    this.#host = host
    this.#tracker = new LeaderTracker({
      refresh: () => this.#apply(),
      failed: (error) => host.warning(error),
      // Sessions report stale leaders only when a request fails: the tracker retries itself.
      retriesOnItsOwn: () => true,
    })
  }

  /** Refreshes now, whatever the backoff (new partitions). */
  refresh(): Promise<void> {
    return this.#tracker.refresh()
  }

  /** A session found its leader gone or wrong: refresh, once the backoff allows. */
  stale(): void {
    this.#tracker.markStale()
    void this.#tracker.maybeRefresh()
  }

  /** No more refreshes (the member is closing). */
  close(): void {
    this.#tracker.close()
  }

  /** Applies fresh metadata; false when some partition has no leader right now. */
  async #apply(): Promise<boolean> {
    const host = this.#host
    const topics = [...new Set([...host.partitions()].map((p) => p.topic))]
    if (topics.length === 0) return true
    const metadata = await host.cluster.refreshMetadata(topics)
    let all = true
    for (const p of host.partitions()) {
      const meta = metadata.get(p.topic)
      const leader = meta?.partitions[p.partition]?.nodeId ?? -1
      if (meta && p.topicId !== meta.topicId) {
        if (p.topicId) host.byId.delete(`${p.topicId}:${p.partition}`)
        p.topicId = meta.topicId
        host.byId.set(`${p.topicId}:${p.partition}`, p)
      }
      if (leader !== p.leaderId) {
        const previous = host.sessionOf(p.leaderId)
        p.leaderId = leader
        previous?.wake()
      }
      if (leader >= 0) host.sessionFor(leader)?.wake()
      else all = false
    }
    return all
  }
}
