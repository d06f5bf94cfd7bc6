import { createAPI, fetchV17, type Reader } from '@platformatic/kafka'
import { type RecordBatch, readRecordBatches } from '../records/batches.ts'
import { decodeResponse, malformed } from './decode.ts'

export type FetchRequestTopic = fetchV17.FetchRequestTopic

export interface FetchResponseAbortedTransaction {
  producerId: bigint
  firstOffset: bigint
}

export interface FetchResponsePartition {
  partitionIndex: number
  errorCode: number
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
  /** Epoch -1 when the leader reported no divergence. */
  divergingEpoch: { epoch: number; endOffset: bigint }
  currentLeader: { leaderId: number; leaderEpoch: number }
  snapshotId: { endOffset: bigint; epoch: number }
  abortedTransactions: FetchResponseAbortedTransaction[] | null
  preferredReadReplica: number
  /** Whole record batches (a batch cut at the end is left out); null when the field was null. */
  records: RecordBatch[] | null
}

export interface FetchResponseTopic {
  topicId: string
  partitions: FetchResponsePartition[]
}

/** Error codes (top-level and per partition) are returned, never thrown. */
export interface FetchResponse {
  throttleTimeMs: number
  errorCode: number
  sessionId: number
  responses: FetchResponseTopic[]
  nodeEndpoints: Array<{ nodeId: number; host: string; port: number; rack: string | null }>
}

/*
  Fetch Request (Version: 17) => max_wait_ms min_bytes max_bytes isolation_level session_id session_epoch [topics] [forgotten_topics_data] rack_id TAG_BUFFER
    max_wait_ms => INT32
    min_bytes => INT32
    max_bytes => INT32
    isolation_level => INT8
    session_id => INT32
    session_epoch => INT32
    topics => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => partition current_leader_epoch fetch_offset last_fetched_epoch log_start_offset partition_max_bytes TAG_BUFFER
        partition => INT32
        current_leader_epoch => INT32
        fetch_offset => INT64
        last_fetched_epoch => INT32
        log_start_offset => INT64
        partition_max_bytes => INT32
    forgotten_topics_data => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => INT32
    rack_id => COMPACT_STRING
  The request is @platformatic/kafka's (it writes exactly this); only the response is ours.
*/
export const createRequest = fetchV17.createRequest

/*
  Fetch Response (Version: 17) => throttle_time_ms error_code session_id [responses] TAG_BUFFER
    throttle_time_ms => INT32
    error_code => INT16
    session_id => INT32
    responses => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => partition_index error_code high_watermark last_stable_offset log_start_offset [aborted_transactions] preferred_read_replica records TAG_BUFFER
        partition_index => INT32
        error_code => INT16
        high_watermark => INT64
        last_stable_offset => INT64
        log_start_offset => INT64
        aborted_transactions => producer_id first_offset TAG_BUFFER (COMPACT_NULLABLE_ARRAY)
          producer_id => INT64
          first_offset => INT64
        preferred_read_replica => INT32
        records => COMPACT_RECORDS (nullable)
        tagged fields: 0 diverging_epoch => epoch end_offset TAG_BUFFER (INT32 INT64)
                       1 current_leader => leader_id leader_epoch TAG_BUFFER (INT32 INT32)
                       2 snapshot_id => end_offset epoch TAG_BUFFER (INT64 INT32)
    tagged field 0: node_endpoints => node_id host port rack TAG_BUFFER
      node_id => INT32
      host => COMPACT_STRING
      port => INT32
      rack => COMPACT_NULLABLE_STRING
  Record batches are decoded by records/batches.ts in the chunks the response arrived in.
*/
export function parseResponse(
  _correlationId: number,
  _apiKey: number,
  apiVersion: number,
  reader: Reader,
): FetchResponse {
  const site = { api: 'Fetch', version: apiVersion }
  return decodeResponse('Fetch', apiVersion, reader, () => {
    const response: FetchResponse = {
      throttleTimeMs: reader.readInt32(),
      errorCode: reader.readInt16(),
      sessionId: reader.readInt32(),
      responses: reader.readArray((t) => ({
        topicId: t.readUUID(),
        partitions: t.readArray((p) => readPartition(p, site), true, false),
      })),
      nodeEndpoints: [],
    }
    readTaggedFields(reader, (tag, r) => {
      if (tag !== 0) return false
      response.nodeEndpoints = r.readArray((e) => ({
        nodeId: e.readInt32(),
        host: e.readString(),
        port: e.readInt32(),
        rack: e.readNullableString(),
      }))
      return true
    })
    return response
  })
}

function readPartition(r: Reader, site: { api: string; version: number }): FetchResponsePartition {
  const partition: FetchResponsePartition = {
    partitionIndex: r.readInt32(),
    errorCode: r.readInt16(),
    highWatermark: r.readInt64(),
    lastStableOffset: r.readInt64(),
    logStartOffset: r.readInt64(),
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: r.readNullableArray((a) => ({
      producerId: a.readInt64(),
      firstOffset: a.readInt64(),
    })),
    preferredReadReplica: r.readInt32(),
    records: null,
  }
  const sizePlusOne = r.readUnsignedVarInt()
  if (sizePlusOne > 0) {
    const size = sizePlusOne - 1
    if (size > r.remaining) {
      throw malformed(site.api, site.version, `records claim ${size} bytes, ${r.remaining} remain`)
    }
    // Read in the chunks the response arrived in (views, no copy).
    partition.records =
      size === 0 ? [] : readRecordBatches(r.buffer.subarray(r.position, r.position + size).buffers, site)
    r.skip(size)
  }
  // Each of these structs ends with its own TAG_BUFFER.
  readTaggedFields(r, (tag, f) => {
    if (tag === 0) partition.divergingEpoch = { epoch: f.readInt32(), endOffset: f.readInt64() }
    else if (tag === 1) partition.currentLeader = { leaderId: f.readInt32(), leaderEpoch: f.readInt32() }
    else if (tag === 2) partition.snapshotId = { endOffset: f.readInt64(), epoch: f.readInt32() }
    else return false
    f.readTaggedFields()
    return true
  })
  return partition
}

/** A TAG_BUFFER: `read` parses the tags it knows (returning true); the others are skipped. */
function readTaggedFields(r: Reader, read: (tag: number, r: Reader) => boolean): void {
  const count = r.readUnsignedVarInt()
  for (let i = 0; i < count; i++) {
    const tag = r.readUnsignedVarInt()
    const size = r.readUnsignedVarInt()
    const end = r.position + size
    if (!read(tag, r)) r.skip(size)
    else if (r.position !== end)
      throw new Error(`tagged field ${tag} is ${size} bytes, ${r.position - end + size} read`)
  }
}

export const api = createAPI<Parameters<typeof fetchV17.createRequest>, FetchResponse>(
  1,
  17,
  createRequest,
  parseResponse,
)
