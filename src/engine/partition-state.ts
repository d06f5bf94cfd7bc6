import type { TakeablePartition } from './fair-take.ts'
import { PartitionBuffer } from './partition-buffer.ts'
import type { ConsumerRecord, TopicPartition } from './types.ts'
import { partitionKey } from './types.ts'

/** The fetch state of one assigned partition. */
export class PartitionState implements TakeablePartition {
  readonly topic: string
  readonly partition: number
  readonly key: string
  topicId = ''
  leaderId = -1
  leaderEpoch = -1
  /** The next offset to fetch. */
  position: number
  /**
   * Leader epoch of the last record batch fetched (-1 until the first fetch after an
   * assignment, seek or reset): sent as `lastFetchedEpoch` so the leader can tell when its log
   * diverged from what this member read (truncation after an unclean leader election).
   */
  lastFetchedEpoch = -1
  /**
   * The offset up to which records were handed to the taker: every offset below it was either
   * handed over or is a gap (control batch, aborted or compacted record). Takes report it as
   * `nextOffset`, so the taker's progress can pass trailing gaps.
   */
  handedUpTo: number
  paused = false
  /** The taker's limit refused this partition's records in the last take that asked. */
  refused = false
  inFlight = false
  /** Bumped by seek and reset: responses for an older generation are discarded. */
  generation = 0
  highWatermark = -1
  retryAt = 0
  resetting = false
  readonly buffer = new PartitionBuffer()

  constructor(topic: string, partition: number, position: number) {
    this.topic = topic
    this.partition = partition
    this.key = partitionKey(topic, partition)
    this.position = position
    this.handedUpTo = position
  }

  /** Moves to `offset` (seek, reset, truncation): buffered records are dropped by the caller. */
  reposition(offset: number): void {
    this.refused = false
    this.position = offset
    this.handedUpTo = offset
    this.lastFetchedEpoch = -1
    this.generation++
    this.retryAt = 0
  }

  available(): number {
    return this.buffer.records
  }

  take(n: number): ConsumerRecord[] {
    return this.buffer.take(n)
  }

  setRefused(refused: boolean): void {
    this.refused = refused
  }

  /** The next offset a taker sees: the first buffered record, else the fetch position. */
  consumerPosition(): number {
    return this.buffer.firstOffset() ?? this.position
  }

  /** True when a take would hand over something: records, or the passing of trailing gaps. */
  hasSomethingToHand(): boolean {
    return this.buffer.records > 0 || this.position > this.handedUpTo
  }
}

/** Per-partition statistics (lag is against the last high watermark seen). */
export interface PartitionFetchStats extends TopicPartition {
  position: number
  highWatermark: number
  lag: number
  buffered: number
  bufferedBytes: number
  paused: boolean
}

export function statsOf(s: PartitionState): PartitionFetchStats {
  const position = s.consumerPosition()
  return {
    topic: s.topic,
    partition: s.partition,
    position,
    highWatermark: s.highWatermark,
    lag: s.highWatermark < 0 ? 0 : Math.max(0, s.highWatermark - position),
    buffered: s.buffer.records,
    bufferedBytes: s.buffer.bytes,
    paused: s.paused,
  }
}
