import { createAPI, type NullableString, type Reader, Writer } from '@platformatic/kafka'
import { decodeResponse } from './decode.ts'

export interface ShareGroupDescribeTopicPartitions {
  topicId: string
  topicName: string
  partitions: number[]
}

export interface ShareGroupDescribeMember {
  memberId: string
  rackId: NullableString
  memberEpoch: number
  clientId: string
  clientHost: string
  subscribedTopicNames: string[]
  assignment: { topicPartitions: ShareGroupDescribeTopicPartitions[] }
}

export interface ShareGroupDescribeGroup {
  errorCode: number
  errorMessage: NullableString
  groupId: string
  /** `Empty`, `Stable`, `Dead`, … (the empty string when unknown). */
  groupState: string
  groupEpoch: number
  assignmentEpoch: number
  assignorName: string
  members: ShareGroupDescribeMember[]
  /** Bit field of authorized operations; -2147483648 when not asked for. */
  authorizedOperations: number
}

/** Error codes are per group and returned, never thrown. */
export interface ShareGroupDescribeResponse {
  throttleTimeMs: number
  groups: ShareGroupDescribeGroup[]
}

/*
  ShareGroupDescribe Request (Version: 1) => [group_ids] include_authorized_operations TAG_BUFFER
    group_ids => COMPACT_STRING
    include_authorized_operations => BOOLEAN
*/
export function createRequest(groupIds: string[], includeAuthorizedOperations: boolean): Writer {
  return Writer.create()
    .appendArray(groupIds, (w, id) => w.appendString(id), true, false)
    .appendBoolean(includeAuthorizedOperations)
    .appendTaggedFields()
}

/*
  ShareGroupDescribe Response (Version: 1) => throttle_time_ms [groups] TAG_BUFFER
    throttle_time_ms => INT32
    groups => error_code error_message group_id group_state group_epoch assignment_epoch assignor_name [members] authorized_operations TAG_BUFFER
      error_code => INT16
      error_message => COMPACT_NULLABLE_STRING
      group_id => COMPACT_STRING
      group_state => COMPACT_STRING
      group_epoch => INT32
      assignment_epoch => INT32
      assignor_name => COMPACT_STRING
      members => member_id rack_id member_epoch client_id client_host [subscribed_topic_names] assignment TAG_BUFFER
        member_id => COMPACT_STRING
        rack_id => COMPACT_NULLABLE_STRING
        member_epoch => INT32
        client_id => COMPACT_STRING
        client_host => COMPACT_STRING
        subscribed_topic_names => COMPACT_STRING
        assignment => [topic_partitions] TAG_BUFFER
          topic_partitions => topic_id topic_name [partitions] TAG_BUFFER
            topic_id => UUID
            topic_name => COMPACT_STRING
            partitions => INT32
      authorized_operations => INT32
*/
export function parseResponse(
  _correlationId: number,
  _apiKey: number,
  apiVersion: number,
  reader: Reader,
): ShareGroupDescribeResponse {
  return decodeResponse('ShareGroupDescribe', apiVersion, reader, () => {
    const response: ShareGroupDescribeResponse = {
      throttleTimeMs: reader.readInt32(),
      groups: reader.readArray((g) => ({
        errorCode: g.readInt16(),
        errorMessage: g.readNullableString(),
        groupId: g.readString(),
        groupState: g.readString(),
        groupEpoch: g.readInt32(),
        assignmentEpoch: g.readInt32(),
        assignorName: g.readString(),
        members: g.readArray((m) => ({
          memberId: m.readString(),
          rackId: m.readNullableString(),
          memberEpoch: m.readInt32(),
          clientId: m.readString(),
          clientHost: m.readString(),
          subscribedTopicNames: m.readArray((s) => s.readString(), true, false),
          assignment: readAssignment(m),
        })),
        authorizedOperations: g.readInt32(),
      })),
    }
    reader.readTaggedFields()
    return response
  })
}

function readAssignment(r: Reader): { topicPartitions: ShareGroupDescribeTopicPartitions[] } {
  const topicPartitions = r.readArray((t) => ({
    topicId: t.readUUID(),
    topicName: t.readString(),
    partitions: t.readArray((p) => p.readInt32(), true, false),
  }))
  r.readTaggedFields()
  return { topicPartitions }
}

export const api = createAPI<
  [groupIds: string[], includeAuthorizedOperations: boolean],
  ShareGroupDescribeResponse
>(77, 1, createRequest, parseResponse)
