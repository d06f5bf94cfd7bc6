// Test-side encoders of share responses and decoders of share requests, written from Kafka's
// clients/src/main/resources/common/message/Share*.json independently of src/kafka/apis, so
// round trips check both sides against the schema.
import { createRecordsBatch, Reader, Writer } from '@platformatic/kafka'

export interface Batch {
  firstOffset: bigint
  lastOffset: bigint
  acknowledgeTypes: number[]
}

export interface RequestPartition {
  partitionIndex: number
  acknowledgementBatches: Batch[]
}

function readBatches(r: Reader): Batch[] {
  return r.readArray((b) => ({
    firstOffset: b.readInt64(),
    lastOffset: b.readInt64(),
    acknowledgeTypes: b.readArray((t) => t.readInt8(), true, false),
  }))
}

function readTopics(r: Reader): Array<{ topicId: string; partitions: RequestPartition[] }> {
  return r.readArray((t) => ({
    topicId: t.readUUID(),
    partitions: t.readArray((p) => ({
      partitionIndex: p.readInt32(),
      acknowledgementBatches: readBatches(p),
    })),
  }))
}

function done<T>(r: Reader, value: T): T {
  r.readTaggedFields()
  if (r.remaining !== 0) throw new Error(`${r.remaining} bytes left in the request`)
  return value
}

export function decodeShareFetchRequest(buffer: Buffer, version: 1 | 2) {
  const r = Reader.from(buffer)
  const head = {
    groupId: r.readNullableString(),
    memberId: r.readNullableString(),
    shareSessionEpoch: r.readInt32(),
    maxWaitMs: r.readInt32(),
    minBytes: r.readInt32(),
    maxBytes: r.readInt32(),
    maxRecords: r.readInt32(),
    batchSize: r.readInt32(),
  }
  const v2 = version >= 2 ? { shareAcquireMode: r.readInt8(), isRenewAck: r.readBoolean() } : {}
  return done(r, {
    ...head,
    ...v2,
    topics: readTopics(r),
    forgottenTopicsData: r.readArray((t) => ({
      topicId: t.readUUID(),
      partitions: t.readArray((p) => p.readInt32(), true, false),
    })),
  })
}

export function decodeShareAcknowledgeRequest(buffer: Buffer, version: 1 | 2) {
  const r = Reader.from(buffer)
  const head = {
    groupId: r.readNullableString(),
    memberId: r.readNullableString(),
    shareSessionEpoch: r.readInt32(),
  }
  const v2 = version >= 2 ? { isRenewAck: r.readBoolean() } : {}
  return done(r, { ...head, ...v2, topics: readTopics(r) })
}

export function decodeShareGroupDescribeRequest(buffer: Buffer) {
  const r = Reader.from(buffer)
  return done(r, {
    groupIds: r.readArray((s) => s.readString(), true, false),
    includeAuthorizedOperations: r.readBoolean(),
  })
}

export function decodeDescribeShareGroupOffsetsRequest(buffer: Buffer) {
  const r = Reader.from(buffer)
  return done(r, {
    groups: r.readArray((g) => ({
      groupId: g.readString(),
      topics: g.readNullableArray((t) => ({
        topicName: t.readString(),
        partitions: t.readArray((p) => p.readInt32(), true, false),
      })),
    })),
  })
}

export interface FetchResponsePartitionInput {
  partitionIndex: number
  errorCode?: number
  errorMessage?: string | null
  acknowledgeErrorCode?: number
  acknowledgeErrorMessage?: string | null
  leaderId?: number
  leaderEpoch?: number
  /** Encoded record batches (COMPACT_RECORDS body); null writes a null (malformed from v1). */
  records?: Buffer | null
  acquiredRecords?: Array<{ firstOffset: bigint; lastOffset: bigint; deliveryCount: number }>
}

export interface NodeEndpointInput {
  nodeId: number
  host: string
  port: number
  rack: string | null
}

function writeLeader(w: Writer, leaderId = -1, leaderEpoch = -1): void {
  w.appendInt32(leaderId).appendInt32(leaderEpoch).appendTaggedFields()
}

function writeEndpoints(w: Writer, endpoints: NodeEndpointInput[]): void {
  w.appendArray(endpoints, (e, n) => {
    e.appendInt32(n.nodeId).appendString(n.host).appendInt32(n.port).appendString(n.rack)
  })
}

/** ShareFetch response, versions 1 and 2 (identical). */
export function encodeShareFetchResponse(input: {
  throttleTimeMs?: number
  errorCode?: number
  errorMessage?: string | null
  acquisitionLockTimeoutMs?: number
  responses: Array<{ topicId: string; partitions: FetchResponsePartitionInput[] }>
  nodeEndpoints?: NodeEndpointInput[]
}): Buffer {
  const w = Writer.create()
    .appendInt32(input.throttleTimeMs ?? 0)
    .appendInt16(input.errorCode ?? 0)
    .appendString(input.errorMessage ?? null)
    .appendInt32(input.acquisitionLockTimeoutMs ?? 30_000)
    .appendArray(input.responses, (t, topic) => {
      t.appendUUID(topic.topicId).appendArray(topic.partitions, (p, part) => {
        p.appendInt32(part.partitionIndex)
          .appendInt16(part.errorCode ?? 0)
          .appendString(part.errorMessage ?? null)
          .appendInt16(part.acknowledgeErrorCode ?? 0)
          .appendString(part.acknowledgeErrorMessage ?? null)
        writeLeader(p, part.leaderId, part.leaderEpoch)
        if (part.records === null) p.appendUnsignedVarInt(0)
        else {
          const records = part.records ?? Buffer.alloc(0)
          p.appendUnsignedVarInt(records.length + 1).append(records)
        }
        p.appendArray(part.acquiredRecords ?? [], (a, rec) => {
          a.appendInt64(rec.firstOffset).appendInt64(rec.lastOffset).appendInt16(rec.deliveryCount)
        })
      })
    })
  writeEndpoints(w, input.nodeEndpoints ?? [])
  return w.appendTaggedFields().buffer
}

/** ShareAcknowledge response; version 2 adds acquisition_lock_timeout_ms. */
export function encodeShareAcknowledgeResponse(
  version: 1 | 2,
  input: {
    errorCode?: number
    errorMessage?: string | null
    acquisitionLockTimeoutMs?: number
    responses: Array<{
      topicId: string
      partitions: Array<{ partitionIndex: number; errorCode?: number; errorMessage?: string | null }>
    }>
    nodeEndpoints?: NodeEndpointInput[]
  },
): Buffer {
  const w = Writer.create()
    .appendInt32(0)
    .appendInt16(input.errorCode ?? 0)
    .appendString(input.errorMessage ?? null)
  if (version >= 2) w.appendInt32(input.acquisitionLockTimeoutMs ?? 30_000)
  w.appendArray(input.responses, (t, topic) => {
    t.appendUUID(topic.topicId).appendArray(topic.partitions, (p, part) => {
      p.appendInt32(part.partitionIndex)
        .appendInt16(part.errorCode ?? 0)
        .appendString(part.errorMessage ?? null)
      writeLeader(p)
    })
  })
  writeEndpoints(w, input.nodeEndpoints ?? [])
  return w.appendTaggedFields().buffer
}

export function encodeShareGroupDescribeResponse(
  groups: Array<{
    errorCode: number
    errorMessage: string | null
    groupId: string
    groupState: string
    groupEpoch: number
    assignmentEpoch: number
    assignorName: string
    members: Array<{
      memberId: string
      rackId: string | null
      memberEpoch: number
      clientId: string
      clientHost: string
      subscribedTopicNames: string[]
      assignment: { topicPartitions: Array<{ topicId: string; topicName: string; partitions: number[] }> }
    }>
    authorizedOperations: number
  }>,
): Buffer {
  return Writer.create()
    .appendInt32(0)
    .appendArray(groups, (g, group) => {
      g.appendInt16(group.errorCode)
        .appendString(group.errorMessage)
        .appendString(group.groupId)
        .appendString(group.groupState)
        .appendInt32(group.groupEpoch)
        .appendInt32(group.assignmentEpoch)
        .appendString(group.assignorName)
        .appendArray(group.members, (m, member) => {
          m.appendString(member.memberId)
            .appendString(member.rackId)
            .appendInt32(member.memberEpoch)
            .appendString(member.clientId)
            .appendString(member.clientHost)
            .appendArray(member.subscribedTopicNames, (s, name) => s.appendString(name), true, false)
            .appendArray(member.assignment.topicPartitions, (t, tp) => {
              t.appendUUID(tp.topicId)
                .appendString(tp.topicName)
                .appendArray(tp.partitions, (p, n) => p.appendInt32(n), true, false)
            })
            .appendTaggedFields()
        })
        .appendInt32(group.authorizedOperations)
    })
    .appendTaggedFields().buffer
}

export function encodeDescribeShareGroupOffsetsResponse(
  version: 0 | 1,
  groups: Array<{
    groupId: string
    topics: Array<{
      topicName: string
      topicId: string
      partitions: Array<{
        partitionIndex: number
        startOffset: bigint
        leaderEpoch: number
        lag: bigint
        errorCode: number
      }>
    }>
    errorCode: number
  }>,
): Buffer {
  return Writer.create()
    .appendInt32(0)
    .appendArray(groups, (g, group) => {
      g.appendString(group.groupId)
        .appendArray(group.topics, (t, topic) => {
          t.appendString(topic.topicName)
            .appendUUID(topic.topicId)
            .appendArray(topic.partitions, (p, part) => {
              p.appendInt32(part.partitionIndex).appendInt64(part.startOffset).appendInt32(part.leaderEpoch)
              if (version >= 1) p.appendInt64(part.lag)
              p.appendInt16(part.errorCode).appendString(null)
            })
        })
        .appendInt16(group.errorCode)
        .appendString(null)
    })
    .appendTaggedFields().buffer
}

export function encodeShareGroupHeartbeatResponse(input: {
  errorCode?: number
  errorMessage?: string | null
  memberId: string | null
  memberEpoch: number
  heartbeatIntervalMs: number
  assignment: Array<{ topicId: string; partitions: number[] }> | null
}): Buffer {
  const w = Writer.create()
    .appendInt32(0)
    .appendInt16(input.errorCode ?? 0)
    .appendString(input.errorMessage ?? null)
    .appendString(input.memberId)
    .appendInt32(input.memberEpoch)
    .appendInt32(input.heartbeatIntervalMs)
  if (input.assignment === null) w.appendInt8(-1)
  else {
    w.appendInt8(1)
      .appendArray(input.assignment, (t, tp) => {
        t.appendUUID(tp.topicId).appendArray(tp.partitions, (p, n) => p.appendInt32(n), true, false)
      })
      .appendTaggedFields()
  }
  return w.appendTaggedFields().buffer
}

/** Record batches with the given base offset (the producer writes 0; the log assigns offsets). */
export function recordBatch(baseOffset: bigint, values: string[], attributes = 0): Buffer {
  const buffer = Buffer.from(
    createRecordsBatch(
      values.map((v, i) => ({ topic: 't', key: Buffer.from(`k${i}`), value: Buffer.from(v) })),
      { partitionLeaderEpoch: 7 },
    ).buffer,
  )
  buffer.writeBigInt64BE(baseOffset, 0)
  // attributes sit after base offset (8), length (4), leader epoch (4), magic (1), crc (4)
  if (attributes !== 0) buffer.writeInt16BE(buffer.readInt16BE(21) | attributes, 21)
  return buffer
}
