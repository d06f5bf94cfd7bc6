import { createAPI, Writer } from '@platformatic/kafka'
import {
  appendTopicsAndForgotten,
  parseResponse,
  type ShareFetchRequestV1,
  type ShareFetchResponse,
} from './share-fetch-v1.ts'

export { parseResponse }

/** Version 2 adds the acquire mode (KIP-1206) and RENEW acknowledgements (KIP-1222). */
export interface ShareFetchRequestV2 extends ShareFetchRequestV1 {
  /** 0 batch-optimized (MaxRecords is soft, whole batches), 1 record-limit (MaxRecords is strict). */
  shareAcquireMode: number
  /**
   * True when the acknowledgements contain RENEW (type 4). The broker then fetches nothing and
   * requires maxWaitMs, minBytes, maxBytes and maxRecords to be 0.
   */
  isRenewAck: boolean
}

/*
  ShareFetch Request (Version: 2) => group_id member_id share_session_epoch max_wait_ms min_bytes max_bytes max_records batch_size share_acquire_mode is_renew_ack [topics] [forgotten_topics_data] TAG_BUFFER
    group_id => COMPACT_NULLABLE_STRING
    member_id => COMPACT_NULLABLE_STRING
    share_session_epoch => INT32
    max_wait_ms => INT32
    min_bytes => INT32
    max_bytes => INT32
    max_records => INT32
    batch_size => INT32
    share_acquire_mode => INT8
    is_renew_ack => BOOLEAN
    topics => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => partition_index [acknowledgement_batches] TAG_BUFFER
        partition_index => INT32
        acknowledgement_batches => first_offset last_offset [acknowledge_types] TAG_BUFFER
          first_offset => INT64
          last_offset => INT64
          acknowledge_types => INT8 (0 gap, 1 accept, 2 release, 3 reject, 4 renew)
    forgotten_topics_data => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => INT32
  The response is version 1's (share-fetch-v1.ts).
*/
export function createRequest(request: ShareFetchRequestV2): Writer {
  const w = Writer.create()
    .appendString(request.groupId)
    .appendString(request.memberId)
    .appendInt32(request.shareSessionEpoch)
    .appendInt32(request.maxWaitMs)
    .appendInt32(request.minBytes)
    .appendInt32(request.maxBytes)
    .appendInt32(request.maxRecords)
    .appendInt32(request.batchSize)
    .appendInt8(request.shareAcquireMode)
    .appendBoolean(request.isRenewAck)
  return appendTopicsAndForgotten(w, request).appendTaggedFields()
}

export const api = createAPI<[request: ShareFetchRequestV2], ShareFetchResponse>(
  78,
  2,
  createRequest,
  parseResponse,
)
