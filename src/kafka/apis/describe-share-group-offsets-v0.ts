import { createAPI, type NullableString, type Reader, Writer } from '@platformatic/kafka'
import { decodeResponse } from './decode.ts'

export interface DescribeShareGroupOffsetsRequestGroup {
  groupId: string
  /** Topics and partitions to describe; null for every topic-partition the group has state for. */
  topics: Array<{ topicName: string; partitions: number[] }> | null
}

export interface DescribeShareGroupOffsetsResponsePartition {
  partitionIndex: number
  /** The share-partition start offset: records below it are done (-1: not initialized). */
  startOffset: bigint
  leaderEpoch: number
  /** Version 1 (KIP-1226): records from the start offset not yet done; -1 when unknown or in version 0. */
  lag: bigint
  errorCode: number
  errorMessage: NullableString
}

export interface DescribeShareGroupOffsetsResponseGroup {
  groupId: string
  topics: Array<{
    topicName: string
    topicId: string
    partitions: DescribeShareGroupOffsetsResponsePartition[]
  }>
  errorCode: number
  errorMessage: NullableString
}

/** Versions 0 and 1 (version 1 adds the lag). Error codes are returned, never thrown. */
export interface DescribeShareGroupOffsetsResponse {
  throttleTimeMs: number
  groups: DescribeShareGroupOffsetsResponseGroup[]
}

/*
  DescribeShareGroupOffsets Request (Version: 0) => [groups] TAG_BUFFER
    groups => group_id [topics] TAG_BUFFER
      group_id => COMPACT_STRING
      topics => topic_name [partitions] TAG_BUFFER   (COMPACT_NULLABLE_ARRAY: null = all)
        topic_name => COMPACT_STRING
        partitions => INT32
  (Version 1's request is the same.)
*/
export function createRequest(groups: DescribeShareGroupOffsetsRequestGroup[]): Writer {
  return Writer.create()
    .appendArray(groups, (g, group) => {
      g.appendString(group.groupId).appendArray(group.topics, (t, topic) => {
        t.appendString(topic.topicName).appendArray(topic.partitions, (p, n) => p.appendInt32(n), true, false)
      })
    })
    .appendTaggedFields()
}

/*
  DescribeShareGroupOffsets Response (Version: 0) => throttle_time_ms [groups] TAG_BUFFER
    throttle_time_ms => INT32
    groups => group_id [topics] error_code error_message TAG_BUFFER
      group_id => COMPACT_STRING
      topics => topic_name topic_id [partitions] TAG_BUFFER
        topic_name => COMPACT_STRING
        topic_id => UUID
        partitions => partition_index start_offset leader_epoch error_code error_message TAG_BUFFER
          partition_index => INT32
          start_offset => INT64
          leader_epoch => INT32
          error_code => INT16
          error_message => COMPACT_NULLABLE_STRING
      error_code => INT16
      error_message => COMPACT_NULLABLE_STRING
  (Version 1 adds lag => INT64 after leader_epoch: describe-share-group-offsets-v1.ts.)
*/
export function parseResponse(
  _correlationId: number,
  _apiKey: number,
  apiVersion: number,
  reader: Reader,
): DescribeShareGroupOffsetsResponse {
  return decodeResponse('DescribeShareGroupOffsets', apiVersion, reader, () => {
    const response: DescribeShareGroupOffsetsResponse = {
      throttleTimeMs: reader.readInt32(),
      groups: reader.readArray((g) => ({
        groupId: g.readString(),
        topics: g.readArray((t) => ({
          topicName: t.readString(),
          topicId: t.readUUID(),
          partitions: t.readArray((p) => ({
            partitionIndex: p.readInt32(),
            startOffset: p.readInt64(),
            leaderEpoch: p.readInt32(),
            lag: apiVersion >= 1 ? p.readInt64() : -1n,
            errorCode: p.readInt16(),
            errorMessage: p.readNullableString(),
          })),
        })),
        errorCode: g.readInt16(),
        errorMessage: g.readNullableString(),
      })),
    }
    reader.readTaggedFields()
    return response
  })
}

export const api = createAPI<
  [groups: DescribeShareGroupOffsetsRequestGroup[]],
  DescribeShareGroupOffsetsResponse
>(90, 0, createRequest, parseResponse)
