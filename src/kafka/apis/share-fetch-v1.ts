import { createAPI, type NullableString, type Reader, Writer } from '@platformatic/kafka'
import { decodeResponse } from './decode.ts'
import {
  type AcknowledgementBatch,
  type LeaderIdAndEpoch,
  type NodeEndpoint,
  type RecordBatch,
  readLeaderIdAndEpoch,
  readNodeEndpoints,
  readRecords,
  writeAcknowledgementBatches,
} from './share-common.ts'

export interface ShareFetchRequestPartition {
  partitionIndex: number
  /** Acknowledgements piggybacked on the fetch (not allowed with session epoch 0). */
  acknowledgementBatches: AcknowledgementBatch[]
}

export interface ShareFetchRequestTopic {
  topicId: string
  partitions: ShareFetchRequestPartition[]
}

export interface ShareFetchForgottenTopic {
  topicId: string
  partitions: number[]
}

/** The request fields of version 1 (version 2 adds the acquire mode and IsRenewAck). */
export interface ShareFetchRequestV1 {
  groupId: string
  memberId: string
  /** 0 opens a session, -1 closes it, otherwise the session's next epoch. */
  shareSessionEpoch: number
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  /** Soft limit on acquired records (may be exceeded to keep whole batches). */
  maxRecords: number
  /** Preferred size of acquired-record and acknowledgement batches. */
  batchSize: number
  /** Partitions added to the session, or carrying acknowledgements. */
  topics: ShareFetchRequestTopic[]
  /** Partitions removed from the session. */
  forgottenTopicsData: ShareFetchForgottenTopic[]
}

export interface ShareFetchAcquiredRecords {
  firstOffset: bigint
  lastOffset: bigint
  deliveryCount: number
}

export interface ShareFetchResponsePartition {
  partitionIndex: number
  errorCode: number
  errorMessage: NullableString
  /** Result of the acknowledgements piggybacked for this partition (all or nothing). */
  acknowledgeErrorCode: number
  acknowledgeErrorMessage: NullableString
  currentLeader: LeaderIdAndEpoch
  /** Whole record batches; only offsets inside `acquiredRecords` were acquired by this member. */
  records: RecordBatch[]
  acquiredRecords: ShareFetchAcquiredRecords[]
}

export interface ShareFetchResponseTopic {
  topicId: string
  partitions: ShareFetchResponsePartition[]
}

/** Same shape for versions 1 and 2. Error codes are returned, never thrown. */
export interface ShareFetchResponse {
  throttleTimeMs: number
  errorCode: number
  errorMessage: NullableString
  /** How long the records acquired by this response stay locked. */
  acquisitionLockTimeoutMs: number
  responses: ShareFetchResponseTopic[]
  nodeEndpoints: NodeEndpoint[]
}

/*
  ShareFetch Request (Version: 1) => group_id member_id share_session_epoch max_wait_ms min_bytes max_bytes max_records batch_size [topics] [forgotten_topics_data] TAG_BUFFER
    group_id => COMPACT_NULLABLE_STRING
    member_id => COMPACT_NULLABLE_STRING
    share_session_epoch => INT32
    max_wait_ms => INT32
    min_bytes => INT32
    max_bytes => INT32
    max_records => INT32
    batch_size => INT32
    topics => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => partition_index [acknowledgement_batches] TAG_BUFFER
        partition_index => INT32
        acknowledgement_batches => first_offset last_offset [acknowledge_types] TAG_BUFFER
          first_offset => INT64
          last_offset => INT64
          acknowledge_types => INT8
    forgotten_topics_data => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => INT32
  (PartitionMaxBytes existed in version 0 only.)
*/
export function createRequest(request: ShareFetchRequestV1): Writer {
  const w = Writer.create()
    .appendString(request.groupId)
    .appendString(request.memberId)
    .appendInt32(request.shareSessionEpoch)
    .appendInt32(request.maxWaitMs)
    .appendInt32(request.minBytes)
    .appendInt32(request.maxBytes)
    .appendInt32(request.maxRecords)
    .appendInt32(request.batchSize)
  return appendTopicsAndForgotten(w, request).appendTaggedFields()
}

/** topics and forgotten_topics_data, shared with version 2. */
export function appendTopicsAndForgotten(
  w: Writer,
  request: Pick<ShareFetchRequestV1, 'topics' | 'forgottenTopicsData'>,
): Writer {
  return w
    .appendArray(request.topics, (t, topic) => {
      t.appendUUID(topic.topicId).appendArray(topic.partitions, (p, partition) => {
        p.appendInt32(partition.partitionIndex)
        writeAcknowledgementBatches(p, partition.acknowledgementBatches)
      })
    })
    .appendArray(request.forgottenTopicsData, (t, topic) => {
      t.appendUUID(topic.topicId).appendArray(
        topic.partitions,
        (p, partition) => p.appendInt32(partition),
        true,
        false,
      )
    })
}

/*
  ShareFetch Response (Version: 1) => throttle_time_ms error_code error_message acquisition_lock_timeout_ms [responses] [node_endpoints] TAG_BUFFER
    throttle_time_ms => INT32
    error_code => INT16
    error_message => COMPACT_NULLABLE_STRING
    acquisition_lock_timeout_ms => INT32
    responses => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => partition_index error_code error_message acknowledge_error_code acknowledge_error_message current_leader records [acquired_records] TAG_BUFFER
        partition_index => INT32
        error_code => INT16
        error_message => COMPACT_NULLABLE_STRING
        acknowledge_error_code => INT16
        acknowledge_error_message => COMPACT_NULLABLE_STRING
        current_leader => leader_id leader_epoch TAG_BUFFER
          leader_id => INT32
          leader_epoch => INT32
        records => COMPACT_RECORDS (not nullable from version 1)
        acquired_records => first_offset last_offset delivery_count TAG_BUFFER
          first_offset => INT64
          last_offset => INT64
          delivery_count => INT16
    node_endpoints => node_id host port rack TAG_BUFFER
      node_id => INT32
      host => COMPACT_STRING
      port => INT32
      rack => COMPACT_NULLABLE_STRING
  (Version 2's response is the same.)
*/
export function parseResponse(
  _correlationId: number,
  _apiKey: number,
  apiVersion: number,
  reader: Reader,
): ShareFetchResponse {
  return decodeResponse('ShareFetch', apiVersion, reader, () => {
    const response: ShareFetchResponse = {
      throttleTimeMs: reader.readInt32(),
      errorCode: reader.readInt16(),
      errorMessage: reader.readNullableString(),
      acquisitionLockTimeoutMs: reader.readInt32(),
      responses: reader.readArray((t) => ({
        topicId: t.readUUID(),
        partitions: t.readArray((p) => ({
          partitionIndex: p.readInt32(),
          errorCode: p.readInt16(),
          errorMessage: p.readNullableString(),
          acknowledgeErrorCode: p.readInt16(),
          acknowledgeErrorMessage: p.readNullableString(),
          currentLeader: readLeaderIdAndEpoch(p),
          records: readRecords(p, 'ShareFetch', apiVersion),
          acquiredRecords: p.readArray((a) => ({
            firstOffset: a.readInt64(),
            lastOffset: a.readInt64(),
            deliveryCount: a.readInt16(),
          })),
        })),
      })),
      nodeEndpoints: readNodeEndpoints(reader),
    }
    reader.readTaggedFields()
    return response
  })
}

export const api = createAPI<[request: ShareFetchRequestV1], ShareFetchResponse>(
  78,
  1,
  createRequest,
  parseResponse,
)
