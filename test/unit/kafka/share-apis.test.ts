import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Reader } from '@platformatic/kafka'
import fc from 'fast-check'
import { KafkaResponseError, MalformedResponseError } from '../../../src/kafka/apis/decode.ts'
import * as describeOffsetsV0 from '../../../src/kafka/apis/describe-share-group-offsets-v0.ts'
import * as describeOffsetsV1 from '../../../src/kafka/apis/describe-share-group-offsets-v1.ts'
import * as shareAcknowledgeV1 from '../../../src/kafka/apis/share-acknowledge-v1.ts'
import * as shareAcknowledgeV2 from '../../../src/kafka/apis/share-acknowledge-v2.ts'
import * as shareFetchV1 from '../../../src/kafka/apis/share-fetch-v1.ts'
import * as shareFetchV2 from '../../../src/kafka/apis/share-fetch-v2.ts'
import * as shareGroupDescribeV1 from '../../../src/kafka/apis/share-group-describe-v1.ts'
import * as shareGroupHeartbeatV1 from '../../../src/kafka/apis/share-group-heartbeat-v1.ts'
import { protocolErrorName } from '../../../src/kafka/protocol-errors.ts'
import { recordsOf } from '../../support/record-batches.ts'
import {
  decodeDescribeShareGroupOffsetsRequest,
  decodeShareAcknowledgeRequest,
  decodeShareFetchRequest,
  decodeShareGroupDescribeRequest,
  encodeDescribeShareGroupOffsetsResponse,
  encodeShareAcknowledgeResponse,
  encodeShareFetchResponse,
  encodeShareGroupDescribeResponse,
  encodeShareGroupHeartbeatResponse,
  recordBatch,
} from './share-wire.ts'

const TOPIC_A = '0b6d6bb3-52c6-4d3c-9a4c-2a3c1f0e9d11'
const TOPIC_B = 'f1e2d3c4-b5a6-4798-8a7b-6c5d4e3f2a10'

type Parser<T> = (correlationId: number, apiKey: number, apiVersion: number, reader: Reader) => T
const parse = <T>(parser: Parser<T>, key: number, version: number, buffer: Buffer): T =>
  parser(0, key, version, Reader.from(buffer))

const acknowledgementTopics = [
  {
    topicId: TOPIC_A,
    partitions: [
      {
        partitionIndex: 0,
        acknowledgementBatches: [
          { firstOffset: 10n, lastOffset: 19n, acknowledgeTypes: [1] },
          { firstOffset: 21n, lastOffset: 23n, acknowledgeTypes: [2, 0, 3] },
        ],
      },
      { partitionIndex: 5, acknowledgementBatches: [] },
    ],
  },
  {
    topicId: TOPIC_B,
    partitions: [
      {
        partitionIndex: 1,
        acknowledgementBatches: [{ firstOffset: 7n, lastOffset: 7n, acknowledgeTypes: [4] }],
      },
    ],
  },
]

describe('ShareFetch', () => {
  const request: shareFetchV1.ShareFetchRequestV1 = {
    groupId: 'jobs',
    memberId: 'm-1',
    shareSessionEpoch: 3,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 52_428_800,
    maxRecords: 500,
    batchSize: 500,
    topics: acknowledgementTopics,
    forgottenTopicsData: [{ topicId: TOPIC_B, partitions: [2, 3] }],
  }

  it('v1 request: every field in schema order', () => {
    const decoded = decodeShareFetchRequest(shareFetchV1.createRequest(request).buffer, 1)
    assert.deepEqual(decoded, request)
    assert.equal(shareFetchV1.api.key, 78)
    assert.equal(shareFetchV1.api.version, 1)
  })

  it('v2 request adds the acquire mode and IsRenewAck after batch_size', () => {
    const v2 = { ...request, shareAcquireMode: 1, isRenewAck: true }
    const decoded = decodeShareFetchRequest(shareFetchV2.createRequest(v2).buffer, 2)
    assert.deepEqual(decoded, v2)
    assert.equal(shareFetchV2.api.version, 2)
  })

  it('response (v1 and v2): acquired records, ack results, leader, node endpoints, record batches', () => {
    const records = Buffer.concat([recordBatch(100n, ['a', 'b', 'c']), recordBatch(103n, ['d'])])
    const buffer = encodeShareFetchResponse({
      acquisitionLockTimeoutMs: 15_000,
      responses: [
        {
          topicId: TOPIC_A,
          partitions: [
            {
              partitionIndex: 0,
              acknowledgeErrorCode: 121,
              acknowledgeErrorMessage: 'lost',
              leaderId: 1,
              leaderEpoch: 4,
              records,
              acquiredRecords: [{ firstOffset: 100n, lastOffset: 103n, deliveryCount: 2 }],
            },
            { partitionIndex: 1, errorCode: 6, errorMessage: 'not leader', leaderId: 2, leaderEpoch: 5 },
          ],
        },
      ],
      nodeEndpoints: [{ nodeId: 2, host: 'broker-2', port: 9093, rack: null }],
    })
    for (const version of [1, 2]) {
      const response = parse(shareFetchV1.parseResponse, 78, version, buffer)
      assert.equal(response.errorCode, 0)
      assert.equal(response.acquisitionLockTimeoutMs, 15_000)
      const [p0, p1] = response.responses[0]!.partitions
      assert.equal(p0!.acknowledgeErrorCode, 121)
      assert.equal(p0!.acknowledgeErrorMessage, 'lost')
      assert.deepEqual(p0!.currentLeader, { leaderId: 1, leaderEpoch: 4 })
      assert.deepEqual(p0!.acquiredRecords, [{ firstOffset: 100n, lastOffset: 103n, deliveryCount: 2 }])
      assert.deepEqual(
        p0!.records.flatMap((b) => recordsOf(b).map((r) => `${b.baseOffset + r.offsetDelta}=${r.value}`)),
        ['100=a', '101=b', '102=c', '103=d'],
      )
      assert.equal(p1!.errorCode, 6)
      assert.deepEqual(p1!.records, [])
      assert.deepEqual(response.nodeEndpoints, [{ nodeId: 2, host: 'broker-2', port: 9093, rack: null }])
    }
    assert.equal(shareFetchV2.parseResponse, shareFetchV1.parseResponse, 'v2 answers like v1')
  })

  it('returns top-level errors in the response (the engine classifies them)', () => {
    const response = parse(
      shareFetchV1.parseResponse,
      78,
      1,
      encodeShareFetchResponse({ errorCode: 123, errorMessage: 'epoch', responses: [] }),
    )
    assert.equal(response.errorCode, 123)
    assert.equal(response.errorMessage, 'epoch')
  })
})

describe('ShareAcknowledge', () => {
  const request = { groupId: 'jobs', memberId: 'm-1', shareSessionEpoch: -1, topics: acknowledgementTopics }

  it('v1 request', () => {
    assert.deepEqual(
      decodeShareAcknowledgeRequest(shareAcknowledgeV1.createRequest(request).buffer, 1),
      request,
    )
    assert.equal(shareAcknowledgeV1.api.key, 79)
  })

  it('v2 request adds IsRenewAck after the epoch', () => {
    const v2 = { ...request, isRenewAck: true }
    assert.deepEqual(decodeShareAcknowledgeRequest(shareAcknowledgeV2.createRequest(v2).buffer, 2), v2)
    assert.equal(shareAcknowledgeV2.api.version, 2)
  })

  it('v1 response has no lock timeout; v2 carries it', () => {
    const responses = [
      { topicId: TOPIC_A, partitions: [{ partitionIndex: 0 }, { partitionIndex: 1, errorCode: 121 }] },
    ]
    const v1 = parse(
      shareAcknowledgeV1.parseResponse,
      79,
      1,
      encodeShareAcknowledgeResponse(1, { responses }),
    )
    assert.equal(v1.acquisitionLockTimeoutMs, -1)
    assert.deepEqual(
      v1.responses[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode]),
      [
        [0, 0],
        [1, 121],
      ],
    )
    const v2 = parse(
      shareAcknowledgeV2.parseResponse,
      79,
      2,
      encodeShareAcknowledgeResponse(2, { acquisitionLockTimeoutMs: 4000, responses }),
    )
    assert.equal(v2.acquisitionLockTimeoutMs, 4000)
    assert.equal(v2.responses[0]!.partitions[1]!.errorCode, 121)
    // A v2 body read as v1 leaves the lock timeout unread: the parser notices.
    assert.throws(
      () => parse(shareAcknowledgeV1.parseResponse, 79, 1, encodeShareAcknowledgeResponse(2, { responses })),
      MalformedResponseError,
    )
  })
})

describe('ShareGroupDescribe v1', () => {
  it('request and response', () => {
    const request = decodeShareGroupDescribeRequest(
      shareGroupDescribeV1.createRequest(['a', 'b'], true).buffer,
    )
    assert.deepEqual(request, { groupIds: ['a', 'b'], includeAuthorizedOperations: true })
    const group = {
      errorCode: 0,
      errorMessage: null,
      groupId: 'jobs',
      groupState: 'Stable',
      groupEpoch: 4,
      assignmentEpoch: 4,
      assignorName: 'simple',
      members: [
        {
          memberId: 'm-1',
          rackId: null,
          memberEpoch: 4,
          clientId: 'c',
          clientHost: '/127.0.0.1',
          subscribedTopicNames: ['t'],
          assignment: { topicPartitions: [{ topicId: TOPIC_A, topicName: 't', partitions: [0, 1] }] },
        },
      ],
      authorizedOperations: -2147483648,
    }
    const response = parse(
      shareGroupDescribeV1.parseResponse,
      77,
      1,
      encodeShareGroupDescribeResponse([group]),
    )
    assert.deepEqual(response.groups, [group])
  })
})

describe('DescribeShareGroupOffsets', () => {
  const groups = [
    {
      groupId: 'jobs',
      topics: [
        {
          topicName: 't',
          topicId: TOPIC_A,
          partitions: [{ partitionIndex: 0, startOffset: 42n, leaderEpoch: 3, lag: 8n, errorCode: 0 }],
        },
      ],
      errorCode: 0,
    },
  ]

  it('request: null topics mean all', () => {
    const encoded = describeOffsetsV0.createRequest([{ groupId: 'jobs', topics: null }])
    assert.deepEqual(decodeDescribeShareGroupOffsetsRequest(encoded.buffer), {
      groups: [{ groupId: 'jobs', topics: null }],
    })
    const some = describeOffsetsV1.createRequest([
      { groupId: 'g', topics: [{ topicName: 't', partitions: [1, 2] }] },
    ])
    assert.deepEqual(decodeDescribeShareGroupOffsetsRequest(some.buffer).groups[0]!.topics, [
      { topicName: 't', partitions: [1, 2] },
    ])
  })

  it('v0 has no lag (-1); v1 reads it', () => {
    const v0 = parse(
      describeOffsetsV0.parseResponse,
      90,
      0,
      encodeDescribeShareGroupOffsetsResponse(0, groups),
    )
    assert.equal(v0.groups[0]!.topics[0]!.partitions[0]!.startOffset, 42n)
    assert.equal(v0.groups[0]!.topics[0]!.partitions[0]!.lag, -1n)
    const v1 = parse(
      describeOffsetsV1.parseResponse,
      90,
      1,
      encodeDescribeShareGroupOffsetsResponse(1, groups),
    )
    assert.equal(v1.groups[0]!.topics[0]!.partitions[0]!.lag, 8n)
    assert.equal(describeOffsetsV1.api.version, 1)
  })
})

describe('ShareGroupHeartbeat v1', () => {
  it('parses an assignment', () => {
    const response = parse(
      shareGroupHeartbeatV1.parseResponse,
      76,
      1,
      encodeShareGroupHeartbeatResponse({
        memberId: 'm-1',
        memberEpoch: 3,
        heartbeatIntervalMs: 1000,
        assignment: [{ topicId: TOPIC_A, partitions: [0, 2] }],
      }),
    )
    assert.deepEqual(response.assignment, { topicPartitions: [{ topicId: TOPIC_A, partitions: [0, 2] }] })
    assert.equal(response.memberEpoch, 3)
  })

  it('throws a typed error for a known error code, readable by protocolErrorName', () => {
    const buffer = encodeShareGroupHeartbeatResponse({
      errorCode: 25,
      memberId: null,
      memberEpoch: -1,
      heartbeatIntervalMs: 0,
      assignment: null,
    })
    assert.throws(
      () => parse(shareGroupHeartbeatV1.parseResponse, 76, 1, buffer),
      (error: unknown) => {
        assert.ok(error instanceof KafkaResponseError)
        assert.equal(error.code, 'KAFKA_RESPONSE_ERROR')
        assert.equal(protocolErrorName(error), 'UNKNOWN_MEMBER_ID')
        return true
      },
    )
  })

  it('an unknown error code is a typed error too (not a crash in the error table)', () => {
    const buffer = encodeShareGroupHeartbeatResponse({
      errorCode: 9999,
      errorMessage: 'from the future',
      memberId: null,
      memberEpoch: -1,
      heartbeatIntervalMs: 0,
      assignment: null,
    })
    assert.throws(
      () => parse(shareGroupHeartbeatV1.parseResponse, 76, 1, buffer),
      (error: unknown) => {
        assert.ok(error instanceof KafkaResponseError)
        assert.equal(error.code, 'UNKNOWN_ERROR_CODE')
        assert.equal(error.errorCode, 9999)
        assert.equal(protocolErrorName(error), 'UNKNOWN_ERROR_9999')
        assert.match(error.message, /unknown Kafka error code 9999 \(from the future\)/)
        return true
      },
    )
  })
})

describe('malformed responses become MalformedResponseError naming the API and version', () => {
  const fetchResponse = encodeShareFetchResponse({
    responses: [
      {
        topicId: TOPIC_A,
        partitions: [
          {
            partitionIndex: 0,
            records: recordBatch(0n, ['x', 'y']),
            acquiredRecords: [{ firstOffset: 0n, lastOffset: 1n, deliveryCount: 1 }],
          },
        ],
      },
    ],
    nodeEndpoints: [{ nodeId: 1, host: 'h', port: 1, rack: 'r' }],
  })
  const cases: Array<[string, Parser<unknown>, number, number, Buffer]> = [
    ['ShareFetch', shareFetchV1.parseResponse, 78, 2, fetchResponse],
    [
      'ShareAcknowledge',
      shareAcknowledgeV2.parseResponse,
      79,
      2,
      encodeShareAcknowledgeResponse(2, {
        responses: [{ topicId: TOPIC_A, partitions: [{ partitionIndex: 3 }] }],
      }),
    ],
    [
      'ShareGroupHeartbeat',
      shareGroupHeartbeatV1.parseResponse,
      76,
      1,
      encodeShareGroupHeartbeatResponse({
        memberId: 'm',
        memberEpoch: 1,
        heartbeatIntervalMs: 5,
        assignment: [{ topicId: TOPIC_A, partitions: [0] }],
      }),
    ],
    [
      'DescribeShareGroupOffsets',
      describeOffsetsV1.parseResponse,
      90,
      1,
      encodeDescribeShareGroupOffsetsResponse(1, [
        {
          groupId: 'g',
          topics: [
            {
              topicName: 't',
              topicId: TOPIC_A,
              partitions: [{ partitionIndex: 0, startOffset: 1n, leaderEpoch: 0, lag: 0n, errorCode: 0 }],
            },
          ],
          errorCode: 0,
        },
      ]),
    ],
  ]

  for (const [api, parser, key, version, buffer] of cases) {
    it(`${api}: every truncation and any trailing byte`, () => {
      assert.doesNotThrow(() => parse(parser, key, version, buffer), 'the whole response parses')
      for (let length = 0; length < buffer.length; length++) {
        assert.throws(
          () => parse(parser, key, version, buffer.subarray(0, length)),
          (error: unknown) =>
            error instanceof MalformedResponseError &&
            error.code === 'MALFORMED_RESPONSE' &&
            error.api === api &&
            error.version === version,
          `truncated to ${length} of ${buffer.length} bytes`,
        )
      }
      assert.throws(
        () => parse(parser, key, version, Buffer.concat([buffer, Buffer.from([0])])),
        /1 unread bytes after the last field/,
      )
    })
  }

  it('ShareFetch: null records (not nullable from v1) and records longer than the response', () => {
    const nullRecords = encodeShareFetchResponse({
      responses: [{ topicId: TOPIC_A, partitions: [{ partitionIndex: 0, records: null }] }],
    })
    assert.throws(
      () => parse(shareFetchV1.parseResponse, 78, 1, nullRecords),
      /records is null but not nullable/,
    )
    const ok = encodeShareFetchResponse({
      responses: [{ topicId: TOPIC_A, partitions: [{ partitionIndex: 0, records: recordBatch(0n, ['x']) }] }],
    })
    // Byte 4+2+1+4+1+16+1+4+2+1+2+1+4+4+1 = 48 is the records length varint: claim far more.
    const tooLong = Buffer.from(ok)
    tooLong[48] = 0x7f
    assert.throws(() => parse(shareFetchV1.parseResponse, 78, 1, tooLong), MalformedResponseError)
  })

  it('random bytes never escape as anything but MalformedResponseError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const [, parser, key, version] of cases) {
          try {
            parse(parser, key, version, Buffer.from(bytes))
          } catch (error) {
            if (error instanceof MalformedResponseError || error instanceof KafkaResponseError) continue
            throw error
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})
