import type { fetchV17 } from '@platformatic/kafka'
import type { BufferLimits, FetcherOptions } from './fetch-options.ts'
import type { PartitionState } from './partition-state.ts'

/** What a Fetch asked for one partition: its answer applies only while these still hold. */
export interface SentPartition {
  state: PartitionState
  generation: number
  offset: number
}

/**
 * The partitions a leader's next Fetch asks for: none while the buffers hold their total bound
 * (`buffered`: records and bytes across all partitions).
 */
export function readyToFetch(
  order: readonly PartitionState[],
  nodeId: number,
  now: number,
  limits: BufferLimits,
  buffered: { records: number; bytes: number },
): PartitionState[] {
  // Buffers the taker cannot take now (paused, refused) do not hold up other partitions:
  // they are not fetched further, so they stay at what they hold.
  let records = buffered.records
  let bytes = buffered.bytes
  for (const s of order) {
    if (s.paused || s.refused) {
      records -= s.buffer.records
      bytes -= s.buffer.bytes
    }
  }
  if (records >= limits.maxRecords || bytes >= limits.maxBytes) return []
  return order.filter((s) => fetchable(s, nodeId, now, limits))
}

/**
 * True when a leader's next Fetch may include this partition: led by that node, not paused,
 * resetting or waiting out a retry, no request out, and room in its buffer.
 */
export function fetchable(s: PartitionState, nodeId: number, now: number, limits: BufferLimits): boolean {
  return (
    s.leaderId === nodeId &&
    !s.paused &&
    // Refused by the taker with records still buffered: fetch more once it takes again.
    !(s.refused && s.buffer.records > 0) &&
    !s.inFlight &&
    !s.resetting &&
    s.topicId !== '' &&
    s.retryAt <= now &&
    s.buffer.records < limits.maxRecordsPerPartition &&
    s.buffer.bytes < limits.maxBytesPerPartition
  )
}

/**
 * The topics of one Fetch (partitions grouped by topic id, each asking for no more bytes than
 * its buffer has room for), what was sent per `${topicId}:${partition}`, and the response size
 * the total buffer bound leaves (`bufferedBytes` already held).
 */
export function fetchRequest(
  partitions: readonly PartitionState[],
  options: Pick<FetcherOptions, 'fetch' | 'buffer'>,
  bufferedBytes: number,
): { topics: fetchV17.FetchRequestTopic[]; sent: Map<string, SentPartition>; maxBytes: number } {
  const { fetch, buffer } = options
  const byTopic = new Map<string, fetchV17.FetchRequestPartition[]>()
  const sent = new Map<string, SentPartition>()
  for (const s of partitions) {
    const room = buffer.maxBytesPerPartition - s.buffer.bytes
    const list = byTopic.get(s.topicId) ?? []
    list.push({
      partition: s.partition,
      currentLeaderEpoch: s.leaderEpoch,
      fetchOffset: BigInt(s.position),
      lastFetchedEpoch: s.lastFetchedEpoch,
      partitionMaxBytes: Math.max(1024, Math.min(fetch.maxPartitionBytes, room)),
    })
    byTopic.set(s.topicId, list)
    sent.set(`${s.topicId}:${s.partition}`, { state: s, generation: s.generation, offset: s.position })
  }
  const maxBytes = Math.max(1024, Math.min(fetch.maxBytes, buffer.maxBytes - bufferedBytes))
  const topics = [...byTopic].map(([topicId, ps]) => ({ topicId, partitions: ps }))
  return { topics, sent, maxBytes }
}
