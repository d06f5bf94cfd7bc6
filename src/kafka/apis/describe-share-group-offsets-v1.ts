import { createAPI } from '@platformatic/kafka'
import {
  createRequest,
  type DescribeShareGroupOffsetsRequestGroup,
  type DescribeShareGroupOffsetsResponse,
  parseResponse,
} from './describe-share-group-offsets-v0.ts'

export { createRequest, parseResponse }

/*
  DescribeShareGroupOffsets Request (Version: 1): as version 0.

  DescribeShareGroupOffsets Response (Version: 1) => throttle_time_ms [groups] TAG_BUFFER
    throttle_time_ms => INT32
    groups => group_id [topics] error_code error_message TAG_BUFFER
      group_id => COMPACT_STRING
      topics => topic_name topic_id [partitions] TAG_BUFFER
        topic_name => COMPACT_STRING
        topic_id => UUID
        partitions => partition_index start_offset leader_epoch lag error_code error_message TAG_BUFFER
          partition_index => INT32
          start_offset => INT64
          leader_epoch => INT32
          lag => INT64                    (new in version 1, KIP-1226; -1 when unknown)
          error_code => INT16
          error_message => COMPACT_NULLABLE_STRING
      error_code => INT16
      error_message => COMPACT_NULLABLE_STRING
  The shared parser reads lag when the version is 1 or more.
*/
export const api = createAPI<
  [groups: DescribeShareGroupOffsetsRequestGroup[]],
  DescribeShareGroupOffsetsResponse
>(90, 1, createRequest, parseResponse)
