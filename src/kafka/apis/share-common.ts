// Structures ShareFetch and ShareAcknowledge (v1 and v2) share, so each version's file holds
// only what is its own. Every struct of these flexible versions ends with a TAG_BUFFER.
import type { NullableString, Reader, Writer } from '@platformatic/kafka'
import { type RecordBatch, readRecordBatches } from '../records/batches.ts'
import { MalformedResponseError } from './decode.ts'

export type { RecordBatch }

/** Acknowledge types on the wire (KIP-932; RENEW is KIP-1222, version 2). */
export const ACKNOWLEDGE_TYPE = { GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const

/** ShareAcquireMode of ShareFetch v2 (KIP-1206). */
export const SHARE_ACQUIRE_MODE = { BATCH_OPTIMIZED: 0, RECORD_LIMIT: 1 } as const

/**
 * One acknowledgement batch: offsets `firstOffset`..`lastOffset` (inclusive) and either one type
 * for all of them or one type per offset.
 */
export interface AcknowledgementBatch {
  firstOffset: bigint
  lastOffset: bigint
  acknowledgeTypes: number[]
}

/** Acknowledgements of one partition (a ShareFetch or ShareAcknowledge request partition). */
export interface AcknowledgePartition {
  partitionIndex: number
  acknowledgementBatches: AcknowledgementBatch[]
}

export interface AcknowledgeTopic {
  topicId: string
  partitions: AcknowledgePartition[]
}

export interface LeaderIdAndEpoch {
  leaderId: number
  leaderEpoch: number
}

export interface NodeEndpoint {
  nodeId: number
  host: string
  port: number
  rack: NullableString
}

/*
  acknowledgement_batches => first_offset last_offset [acknowledge_types] TAG_BUFFER
    first_offset => INT64
    last_offset => INT64
    acknowledge_types => INT8
*/
export function writeAcknowledgementBatches(w: Writer, batches: readonly AcknowledgementBatch[]): void {
  w.appendArray([...batches], (b, batch) => {
    b.appendInt64(batch.firstOffset)
      .appendInt64(batch.lastOffset)
      .appendArray(batch.acknowledgeTypes, (t, type) => t.appendInt8(type), true, false)
  })
}

/*
  current_leader => leader_id leader_epoch TAG_BUFFER
    leader_id => INT32
    leader_epoch => INT32
*/
export function readLeaderIdAndEpoch(r: Reader): LeaderIdAndEpoch {
  const leader = { leaderId: r.readInt32(), leaderEpoch: r.readInt32() }
  r.readTaggedFields()
  return leader
}

/*
  node_endpoints => node_id host port rack TAG_BUFFER
    node_id => INT32
    host => COMPACT_STRING
    port => INT32
    rack => COMPACT_NULLABLE_STRING
*/
export function readNodeEndpoints(r: Reader): NodeEndpoint[] {
  return r.readArray((e) => ({
    nodeId: e.readInt32(),
    host: e.readString(),
    port: e.readInt32(),
    rack: e.readNullableString(),
  }))
}

/**
 * COMPACT_RECORDS that the schema declares non-nullable (ShareFetch v1+): a null is malformed.
 * The batch headers are read (and compressed batches decompressed) here, records are scanned
 * later (records/cursor.ts); a partial trailing batch is ignored, as Kafka may cut the last one
 * at the size limit.
 */
export function readRecords(r: Reader, api: string, version: number): RecordBatch[] {
  const sizePlusOne = r.readUnsignedVarInt()
  if (sizePlusOne === 0) throw new MalformedResponseError(api, version, 'records is null but not nullable')
  const size = sizePlusOne - 1
  if (size === 0) return []
  if (size > r.remaining) {
    throw new MalformedResponseError(api, version, `records claim ${size} bytes, ${r.remaining} remain`)
  }
  // Read in the chunks the response arrived in (views, no copy).
  const batches = readRecordBatches(r.buffer.subarray(r.position, r.position + size).buffers, {
    api,
    version,
  })
  r.skip(size)
  return batches
}

/** Appends a COMPACT_RECORDS field (tests build responses with it). */
export function appendRecords(w: Writer, records: Buffer): void {
  w.appendUnsignedVarInt(records.length + 1).append(records)
}
