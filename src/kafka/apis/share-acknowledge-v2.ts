import { createAPI, Writer } from '@platformatic/kafka'
import {
  appendAcknowledgeTopics,
  parseResponse,
  type ShareAcknowledgeRequestV1,
  type ShareAcknowledgeResponse,
} from './share-acknowledge-v1.ts'

export { parseResponse }

/** Version 2 adds RENEW acknowledgements (KIP-1222). */
export interface ShareAcknowledgeRequestV2 extends ShareAcknowledgeRequestV1 {
  /** Must be true when any acknowledgement is RENEW (type 4); other types may come along. */
  isRenewAck: boolean
}

/*
  ShareAcknowledge Request (Version: 2) => group_id member_id share_session_epoch is_renew_ack [topics] TAG_BUFFER
    group_id => COMPACT_NULLABLE_STRING
    member_id => COMPACT_NULLABLE_STRING
    share_session_epoch => INT32
    is_renew_ack => BOOLEAN
    topics => topic_id [partitions] TAG_BUFFER
      topic_id => UUID
      partitions => partition_index [acknowledgement_batches] TAG_BUFFER
        partition_index => INT32
        acknowledgement_batches => first_offset last_offset [acknowledge_types] TAG_BUFFER
          first_offset => INT64
          last_offset => INT64
          acknowledge_types => INT8 (0 gap, 1 accept, 2 release, 3 reject, 4 renew)

  ShareAcknowledge Response (Version: 2) => throttle_time_ms error_code error_message acquisition_lock_timeout_ms [responses] [node_endpoints] TAG_BUFFER
    acquisition_lock_timeout_ms => INT32 (new in version 2; the rest as version 1, share-acknowledge-v1.ts)
*/
export function createRequest(request: ShareAcknowledgeRequestV2): Writer {
  const w = Writer.create()
    .appendString(request.groupId)
    .appendString(request.memberId)
    .appendInt32(request.shareSessionEpoch)
    .appendBoolean(request.isRenewAck)
  return appendAcknowledgeTopics(w, request.topics).appendTaggedFields()
}

export const api = createAPI<[request: ShareAcknowledgeRequestV2], ShareAcknowledgeResponse>(
  79,
  2,
  createRequest,
  parseResponse,
)
