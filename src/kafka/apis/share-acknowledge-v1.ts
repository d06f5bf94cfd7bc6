import { createAPI, type NullableString, type Reader, Writer } from '@platformatic/kafka'
import { decodeResponse } from './decode.ts'
import {
  type AcknowledgeTopic,
  type LeaderIdAndEpoch,
  type NodeEndpoint,
  readLeaderIdAndEpoch,
  readNodeEndpoints,
  writeAcknowledgementBatches,
} from './share-common.ts'

/** The request fields of version 1 (version 2 adds IsRenewAck). */
export interface ShareAcknowledgeRequestV1 {
  groupId: string
  memberId: string
  /** The session's next epoch (0 is refused: a ShareAcknowledge cannot open a session); -1 closes it. */
  shareSessionEpoch: number
  topics: AcknowledgeTopic[]
}

export interface ShareAcknowledgeResponsePartition {
  partitionIndex: number
  /** One code for all of the partition's acknowledgements: the broker applies them all or none. */
  errorCode: number
  errorMessage: NullableString
  currentLeader: LeaderIdAndEpoch
}

export interface ShareAcknowledgeResponseTopic {
  topicId: string
  partitions: ShareAcknowledgeResponsePartition[]
}

/** Versions 1 and 2 (version 2 adds the lock timeout). Error codes are returned, never thrown. */
export interface ShareAcknowledgeResponse {
  throttleTimeMs: number
  errorCode: number
  errorMessage: NullableString
  /** Version 2: the lock duration RENEW acknowledgements restarted; -1 in version 1. */
  acquisitionLockTimeoutMs: number
  responses: ShareAcknowledgeResponseTopic[]
  nodeEndpoints: NodeEndpoint[]
}

/*
  ShareAcknowledge Request (Version: 1) => group_id member_id share_session_epoch [topics] TAG_BUFFER
    group_id => COMPACT_NULLABLE_STRING
    member_id => COMPACT_NULLABLE_STRING
    share_session_epoch => INT32
    topics => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => partition_index [acknowledgement_batches] TAG_BUFFER
        partition_index => INT32
        acknowledgement_batches => first_offset last_offset [acknowledge_types] TAG_BUFFER
          first_offset => INT64
          last_offset => INT64
          acknowledge_types => INT8 (0 gap, 1 accept, 2 release, 3 reject)
*/
export function createRequest(request: ShareAcknowledgeRequestV1): Writer {
  const w = Writer.create()
    .appendString(request.groupId)
    .appendString(request.memberId)
    .appendInt32(request.shareSessionEpoch)
  return appendAcknowledgeTopics(w, request.topics).appendTaggedFields()
}

/** The topics array, shared with version 2. */
export function appendAcknowledgeTopics(w: Writer, topics: readonly AcknowledgeTopic[]): Writer {
  return w.appendArray([...topics], (t, topic) => {
    t.appendUUID(topic.topicId).appendArray(topic.partitions, (p, partition) => {
      p.appendInt32(partition.partitionIndex)
      writeAcknowledgementBatches(p, partition.acknowledgementBatches)
    })
  })
}

/*
  ShareAcknowledge Response (Version: 1) => throttle_time_ms error_code error_message [responses] [node_endpoints] TAG_BUFFER
    throttle_time_ms => INT32
    error_code => INT16
    error_message => COMPACT_NULLABLE_STRING
    responses => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => partition_index error_code error_message current_leader TAG_BUFFER
        partition_index => INT32
        error_code => INT16
        error_message => COMPACT_NULLABLE_STRING
        current_leader => leader_id leader_epoch TAG_BUFFER
          leader_id => INT32
          leader_epoch => INT32
    node_endpoints => node_id host port rack TAG_BUFFER
      node_id => INT32
      host => COMPACT_STRING
      port => INT32
      rack => COMPACT_NULLABLE_STRING
*/
export function parseResponse(
  _correlationId: number,
  _apiKey: number,
  apiVersion: number,
  reader: Reader,
): ShareAcknowledgeResponse {
  return decodeResponse('ShareAcknowledge', apiVersion, reader, () => {
    const throttleTimeMs = reader.readInt32()
    const errorCode = reader.readInt16()
    const errorMessage = reader.readNullableString()
    // acquisition_lock_timeout_ms exists from version 2 on (share-acknowledge-v2.ts).
    const acquisitionLockTimeoutMs = apiVersion >= 2 ? reader.readInt32() : -1
    const response: ShareAcknowledgeResponse = {
      throttleTimeMs,
      errorCode,
      errorMessage,
      acquisitionLockTimeoutMs,
      responses: reader.readArray((t) => ({
        topicId: t.readUUID(),
        partitions: t.readArray((p) => ({
          partitionIndex: p.readInt32(),
          errorCode: p.readInt16(),
          errorMessage: p.readNullableString(),
          currentLeader: readLeaderIdAndEpoch(p),
        })),
      })),
      nodeEndpoints: readNodeEndpoints(reader),
    }
    reader.readTaggedFields()
    return response
  })
}

export const api = createAPI<[request: ShareAcknowledgeRequestV1], ShareAcknowledgeResponse>(
  79,
  1,
  createRequest,
  parseResponse,
)
