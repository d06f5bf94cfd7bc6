import type { ShareConsumerStats } from './share-consumer-types.ts'
import type { SharePartition } from './share-partition.ts'
import type { ShareSession } from './share-session.ts'

/** A snapshot of the share member's partitions (with their counters) and sessions. */
export function shareStats(
  memberId: string,
  memberEpoch: number,
  partitions: Iterable<SharePartition>,
  sessions: Iterable<ShareSession>,
): ShareConsumerStats {
  const ps = [...partitions]
  return {
    memberId,
    memberEpoch,
    buffered: ps.reduce((n, p) => n + p.buffered, 0),
    partitions: ps.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      assigned: p.assigned,
      leaderId: p.leaderId,
      buffered: p.buffered,
      processing: p.processing,
      held: p.held,
      lockBudget: p.lockBudget,
      ...p.counters,
    })),
    sessions: [...sessions].map((s) => ({
      nodeId: s.nodeId,
      epoch: s.epoch,
      requests: s.requests,
      fetches: s.fetches,
      acknowledgeRequests: s.acknowledgeRequests,
    })),
  }
}
