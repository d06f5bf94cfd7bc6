// What a share session puts in its requests and takes from the answers: pure functions over the
// member's partitions, so the session itself only decides what to send next.
import type * as shareAcknowledgeV1 from '../../kafka/apis/share-acknowledge-v1.ts'
import type * as shareAcknowledgeV2 from '../../kafka/apis/share-acknowledge-v2.ts'
import type { AcknowledgeTopic } from '../../kafka/apis/share-common.ts'
import { ACKNOWLEDGE_TYPE, SHARE_ACQUIRE_MODE } from '../../kafka/apis/share-common.ts'
import type * as shareFetchV1 from '../../kafka/apis/share-fetch-v1.ts'
import type * as shareFetchV2 from '../../kafka/apis/share-fetch-v2.ts'
import { encodeBatches, wireType } from './acknowledgement-batches.ts'
import { decodeAcquired } from './acquired-records.ts'
import { ShareError } from './errors.ts'
import type { SessionHost } from './session-host.ts'
import type { ShareFetchEvent } from './share-consumer-types.ts'
import { classifyAckError } from './share-errors.ts'
import type { AckEntry, AckUnit, SharePartition } from './share-partition.ts'
import type { AckResult } from './types.ts'

/** Acknowledgement units taken from partitions for one request. */
export type Units = Array<[SharePartition, AckUnit]>

/** The epoch after `epoch` (Kafka wraps from MAX_INT to 1, never back to 0). */
export function nextEpoch(epoch: number): number {
  return epoch === 0x7fffffff ? 1 : epoch + 1
}

/** A partition as the broker's session knows it: `topicId:partition`. */
export function sessionKey(p: { topicId: string; partition: number }): string {
  return `${p.topicId}:${p.partition}`
}

/** Takes the next acknowledgement unit of each partition that has one. */
export function takeUnits(partitions: readonly SharePartition[]): Units {
  const units: Units = []
  for (const p of partitions) {
    const unit = p.nextUnit()
    if (unit) units.push([p, unit])
  }
  return units
}

function wireTypeOf(e: AckEntry): number {
  return e.type === 'gap' ? ACKNOWLEDGE_TYPE.GAP : wireType(e.type)
}

function batchesOf(unit: AckUnit) {
  return encodeBatches(unit, wireTypeOf)
}

/**
 * A ShareFetch: partitions of `wanted` the session does not hold yet are added, those it holds
 * but are no longer wanted are forgotten, and `units` ride along. An opening request (epoch 0)
 * fetches nothing and carries nothing. `onDemand` (no lock renewal): at most `maxRecords`, with
 * the record_limit acquire mode, so the broker hands out no more than that.
 */
export function fetchRequest(
  host: SessionHost,
  epoch: number,
  wanted: readonly SharePartition[],
  inSession: ReadonlyMap<string, { topicId: string; partition: number }>,
  units: Units,
  onDemand?: { maxRecords: number },
): { request: shareFetchV2.ShareFetchRequestV2; forgotten: Map<string, number[]> } {
  const open = epoch === 0
  const topics = new Map<string, shareFetchV1.ShareFetchRequestPartition[]>()
  const partitionOf = (topicId: string, partitionIndex: number) => {
    const list = topics.get(topicId) ?? []
    let entry = list.find((x) => x.partitionIndex === partitionIndex)
    if (!entry) {
      entry = { partitionIndex, acknowledgementBatches: [] }
      list.push(entry)
      topics.set(topicId, list)
    }
    return entry
  }
  const wantedKeys = new Set(wanted.map(sessionKey))
  for (const p of wanted) if (!inSession.has(sessionKey(p))) partitionOf(p.topicId, p.partition)
  for (const [p, unit] of units) partitionOf(p.topicId, p.partition).acknowledgementBatches = batchesOf(unit)
  const forgotten = new Map<string, number[]>()
  for (const [key, tp] of inSession) {
    if (!wantedKeys.has(key)) forgotten.set(tp.topicId, [...(forgotten.get(tp.topicId) ?? []), tp.partition])
  }
  const { fetch } = host
  const room = wanted.length ? Math.min(...wanted.map((p) => p.room)) : 0
  return {
    request: {
      groupId: host.groupId,
      memberId: host.memberId,
      shareSessionEpoch: epoch,
      maxWaitMs: open ? 0 : fetch.maxWaitMs,
      minBytes: open ? 0 : fetch.minBytes,
      maxBytes: open ? 0 : fetch.maxBytes,
      // Never more than the lock budget has room for.
      maxRecords: open ? 0 : Math.max(0, Math.min(fetch.maxRecords, room, onDemand?.maxRecords ?? room)),
      batchSize: Math.max(1, Math.min(fetch.maxRecords, onDemand?.maxRecords ?? fetch.maxRecords)),
      shareAcquireMode:
        fetch.acquireMode === 'record_limit' || onDemand
          ? SHARE_ACQUIRE_MODE.RECORD_LIMIT
          : SHARE_ACQUIRE_MODE.BATCH_OPTIMIZED,
      isRenewAck: false,
      topics: [...topics].map(([topicId, partitions]) => ({ topicId, partitions })),
      forgottenTopicsData: [...forgotten].map(([topicId, partitions]) => ({ topicId, partitions })),
    },
    forgotten,
  }
}

/** A ShareAcknowledge carrying `units` (IsRenewAck when any is a RENEW). */
export function acknowledgeRequest(
  host: SessionHost,
  epoch: number,
  units: Units,
): shareAcknowledgeV2.ShareAcknowledgeRequestV2 {
  const topics = new Map<string, AcknowledgeTopic['partitions']>()
  for (const [p, unit] of units) {
    const list = topics.get(p.topicId) ?? []
    list.push({ partitionIndex: p.partition, acknowledgementBatches: batchesOf(unit) })
    topics.set(p.topicId, list)
  }
  return {
    groupId: host.groupId,
    memberId: host.memberId,
    shareSessionEpoch: epoch,
    isRenewAck: units.some(([, u]) => u.some((e) => e.type === 'renew')),
    topics: [...topics].map(([topicId, partitions]) => ({ topicId, partitions })),
  }
}

/** What a successful ShareFetch answer brought, once applied to the partitions. */
export interface FetchOutcome {
  ackResults: AckResult[]
  acquired: ShareFetchEvent['acquired']
  recordsAdded: boolean
  /** Partitions that answered with a fetch error. */
  errors: Array<{ partition: SharePartition; errorCode: number; errorMessage: string | null | undefined }>
}

/**
 * Applies a ShareFetch answer: settles the piggybacked acknowledgements, adds what was acquired
 * (GAPs queued, records of a partition revoked meanwhile released at once), and requeues
 * acknowledgements the broker did not answer.
 */
export function applyFetchResponse(
  host: SessionHost,
  response: shareFetchV1.ShareFetchResponse,
  units: Units,
  sentAt: number,
): FetchOutcome {
  const outcome: FetchOutcome = { ackResults: [], acquired: [], recordsAdded: false, errors: [] }
  const answered = new Set<SharePartition>()
  const deadline = sentAt + response.acquisitionLockTimeoutMs
  if (response.acquisitionLockTimeoutMs > 0) host.lockDuration(response.acquisitionLockTimeoutMs)
  for (const topic of response.responses) {
    for (const pr of topic.partitions) {
      const p = host.partitionById(topic.topicId, pr.partitionIndex)
      if (!p) continue
      const unit = units.find(([x]) => x === p)?.[1]
      if (unit) {
        answered.add(p)
        outcome.ackResults.push(
          ...p.settle(unit, classifyAckError(pr.acknowledgeErrorCode, pr.acknowledgeErrorMessage, p)),
        )
      }
      if (pr.errorCode !== 0) {
        outcome.errors.push({ partition: p, errorCode: pr.errorCode, errorMessage: pr.errorMessage })
        continue
      }
      if (pr.acquiredRecords.length === 0) continue
      const ranges = pr.acquiredRecords.map((a) => ({
        firstOffset: Number(a.firstOffset),
        lastOffset: Number(a.lastOffset),
        deliveryCount: a.deliveryCount,
      }))
      const decoded = decodeAcquired(p.topic, p.partition, pr.records, ranges, deadline)
      const replaced = p.addAcquired(decoded.records, decoded.gaps, response.acquisitionLockTimeoutMs)
      if (replaced.length > 0) lockLost(host, p, replaced, 'acquired again after the lock expired')
      // Revoked while the fetch was out: nobody will process these here.
      if (!p.assigned) p.releaseBuffered()
      outcome.acquired.push({
        topic: p.topic,
        partition: p.partition,
        ranges,
        records: decoded.records.length,
      })
      if (decoded.records.length > 0) outcome.recordsAdded = true
    }
  }
  // Not answered: unknown outcome, send them again.
  for (const [p, unit] of units) if (!answered.has(p)) p.requeue(unit)
  return outcome
}

/**
 * Applies a ShareAcknowledge answer. Units the broker did not answer are requeued, except when
 * the request closed the session (`closing`): then their locks went with it.
 */
export function applyAcknowledgeResponse(
  host: SessionHost,
  response: shareAcknowledgeV1.ShareAcknowledgeResponse,
  units: Units,
  sentAt: number,
  closing: boolean,
): AckResult[] {
  const renewDeadline = sentAt + Math.max(0, response.acquisitionLockTimeoutMs)
  const results: AckResult[] = []
  const answered = new Set<SharePartition>()
  for (const topic of response.responses) {
    for (const pr of topic.partitions) {
      const p = host.partitionById(topic.topicId, pr.partitionIndex)
      const unit = p && units.find(([x]) => x === p)?.[1]
      if (!p || !unit) continue
      answered.add(p)
      results.push(...p.settle(unit, classifyAckError(pr.errorCode, pr.errorMessage, p, renewDeadline)))
    }
  }
  for (const [p, unit] of units) {
    if (answered.has(p)) continue
    if (closing) {
      results.push(
        ...p.settle(unit, { kind: 'lock_lost', error: new ShareError('LOCK_LOST', 'session closed') }),
      )
    } else p.requeue(unit)
  }
  return results
}

/** Reports records whose locks are gone (`lock_lost`). */
export function lockLost(host: SessionHost, p: SharePartition, offsets: number[], reason: string): void {
  host.events.emit('lock_lost', { topic: p.topic, partition: p.partition, offsets, reason })
}

/**
 * The connection to the partition's leader is gone, and every lock held through it: buffered
 * records are dropped, records being processed reported (`lock_lost`), and queued
 * acknowledgements answered as lost (`acknowledged`, requestSeq -1).
 */
export function locksGone(host: SessionHost, nodeId: number, p: SharePartition, reason: string): void {
  const lost = p.loseAll(reason)
  if (lost.processing.length > 0) lockLost(host, p, lost.processing, reason)
  if (lost.results.length === 0) return
  const now = Date.now()
  host.events.emit('acknowledged', {
    requestSeq: -1,
    nodeId,
    via: 'ShareAcknowledge',
    sentAt: now,
    receivedAt: now,
    results: lost.results,
  })
}
