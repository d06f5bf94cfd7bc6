// Fetch v17 responses parse to what @platformatic/kafka's parser reads (records aside, which
// record-batches.ts decodes): partition error codes stay in the response instead of being thrown,
// tagged fields (diverging epoch, current leader, snapshot id, node endpoints) are read, unknown
// tags skipped; null and empty records are told apart; records spanning several chunks of the
// response decode as one; a response that breaks the schema is a MalformedResponseError.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createRecordsBatch, fetchV17 as platformaticFetch, Reader, Writer } from '@platformatic/kafka'
import { MalformedResponseError } from '../../../src/kafka/apis/decode.ts'
import * as fetchV17 from '../../../src/kafka/apis/fetch-v17.ts'
import { recordsOf } from '../../support/record-batches.ts'

const TOPIC_ID = '00000000-0000-0000-0000-000000000007'

interface PartitionSpec {
  index: number
  errorCode?: number
  records: Buffer | null
  aborted?: Array<{ producerId: bigint; firstOffset: bigint }> | null
  diverging?: { epoch: number; endOffset: bigint }
  leader?: { leaderId: number; leaderEpoch: number }
  unknownTag?: boolean
}

function encodeResponse(partitions: PartitionSpec[], trailing?: Buffer): Buffer {
  const w = Writer.create()
    .appendInt32(0)
    .appendInt16(0)
    .appendInt32(0)
    .appendArray([TOPIC_ID], (t, id) => {
      t.appendUUID(id).appendArray(
        partitions,
        (p, s) => {
          p.appendInt32(s.index)
            .appendInt16(s.errorCode ?? 0)
            .appendInt64(100n)
            .appendInt64(90n)
            .appendInt64(0n)
            .appendArray(s.aborted === undefined ? null : s.aborted, (a, x) => {
              a.appendInt64(x.producerId).appendInt64(x.firstOffset)
            })
            .appendInt32(-1)
          if (s.records === null) p.appendUnsignedVarInt(0)
          else p.appendUnsignedVarInt(s.records.length + 1).append(s.records)
          const tags: Array<[number, Buffer]> = []
          // Each tagged struct ends with its own TAG_BUFFER, as every struct of a flexible version.
          if (s.diverging) {
            const b = Buffer.alloc(13)
            b.writeInt32BE(s.diverging.epoch, 0)
            b.writeBigInt64BE(s.diverging.endOffset, 4)
            tags.push([0, b])
          }
          if (s.leader) {
            const b = Buffer.alloc(9)
            b.writeInt32BE(s.leader.leaderId, 0)
            b.writeInt32BE(s.leader.leaderEpoch, 4)
            tags.push([1, b])
          }
          if (s.unknownTag) tags.push([9, Buffer.from('ignored')])
          p.appendUnsignedVarInt(tags.length)
          for (const [tag, b] of tags) p.appendUnsignedVarInt(tag).appendUnsignedVarInt(b.length).append(b)
        },
        true,
        false,
      )
    })
    .appendTaggedFields()
  const bytes = Buffer.from(w.buffer)
  return trailing ? Buffer.concat([bytes, trailing]) : bytes
}

function records(values: string[], base: bigint): Buffer {
  const b = Buffer.from(createRecordsBatch(values.map((v) => ({ topic: 't', value: Buffer.from(v) }))).buffer)
  b.writeBigInt64BE(base, 0)
  return b
}

/** A reader over `bytes` cut into chunks of `chunk` bytes, as responses arrive from a socket. */
function chunked(bytes: Buffer, chunk = bytes.length): Reader {
  const w = Writer.create()
  for (let i = 0; i < bytes.length; i += chunk) w.append(bytes.subarray(i, i + chunk))
  return Reader.from(w)
}

describe('Fetch v17', () => {
  it('partition errors stay in the response, tagged fields are read, null and empty records differ', () => {
    const bytes = encodeResponse([
      { index: 0, records: Buffer.concat([records(['a', 'b'], 10n), records(['c'], 12n)]), aborted: [] },
      { index: 1, errorCode: 6, records: null, aborted: [{ producerId: 3n, firstOffset: 4n }] },
      {
        index: 2,
        records: Buffer.alloc(0),
        diverging: { epoch: 2, endOffset: 40n },
        leader: { leaderId: 3, leaderEpoch: 9 },
        unknownTag: true,
      },
    ])
    const response = fetchV17.parseResponse(0, 1, 17, chunked(bytes))
    const [p0, p1, p2] = response.responses[0]!.partitions
    assert.equal(response.responses[0]!.topicId, TOPIC_ID)
    assert.deepEqual(
      p0!.records!.flatMap((b) => recordsOf(b).map((r) => `${b.baseOffset + r.offsetDelta}=${r.value}`)),
      ['10=a', '11=b', '12=c'],
    )
    assert.equal(p1!.errorCode, 6)
    assert.equal(p1!.records, null)
    assert.deepEqual(p1!.abortedTransactions, [{ producerId: 3n, firstOffset: 4n }])
    assert.deepEqual(p2!.records, [])
    assert.deepEqual(p2!.divergingEpoch, { epoch: 2, endOffset: 40n })
    assert.deepEqual(p2!.currentLeader, { leaderId: 3, leaderEpoch: 9 })
    // Everything but the records as platformatic reads it (which throws for the error code).
    let theirs: platformaticFetch.FetchResponse | undefined
    try {
      theirs = platformaticFetch.parseResponse(0, 1, 17, chunked(bytes))
    } catch (error) {
      theirs = (error as { response?: platformaticFetch.FetchResponse }).response
    }
    const strip = (r: fetchV17.FetchResponse | platformaticFetch.FetchResponse) => ({
      ...r,
      responses: r.responses.map((t) => ({
        ...t,
        partitions: t.partitions.map((p) => ({ ...p, records: p.records?.length ?? p.records })),
      })),
    })
    assert.deepEqual(strip(response), strip(theirs!))
  })

  it('records spread over several chunks of the response decode as one', () => {
    const values = Array.from({ length: 50 }, (_, i) => `value-${i}`.repeat(7))
    const bytes = encodeResponse([{ index: 0, records: records(values, 0n) }])
    for (const chunk of [7, 64, 1000]) {
      const response = fetchV17.parseResponse(0, 1, 17, chunked(bytes, chunk))
      const [batch] = response.responses[0]!.partitions[0]!.records!
      assert.deepEqual(
        recordsOf(batch!).map((r) => r.value?.toString()),
        values,
        `chunks of ${chunk}`,
      )
    }
  })

  it('records longer than the response, a bad batch or bytes after the last field are malformed', () => {
    const batch = records(['x'], 0n)
    const good = encodeResponse([{ index: 0, records: batch }])
    assert.throws(
      () =>
        fetchV17.parseResponse(
          0,
          1,
          17,
          chunked(encodeResponse([{ index: 0, records: null }], Buffer.from([0]))),
        ),
      (e: unknown) =>
        e instanceof MalformedResponseError && /malformed Fetch v17 response: 1 unread bytes/.test(e.message),
    )
    const badMagic = Buffer.from(good)
    const at = good.indexOf(batch)
    badMagic.writeInt8(1, at + 16)
    assert.throws(
      () => fetchV17.parseResponse(0, 1, 17, chunked(badMagic)),
      (e: unknown) => e instanceof MalformedResponseError && /magic 1: only magic 2/.test(e.message),
    )
    // The records length varint sits right before the batch: claim far more than remains.
    const long = Buffer.concat([good.subarray(0, at - 1), Buffer.from([0x7f]), good.subarray(at)])
    assert.throws(
      () => fetchV17.parseResponse(0, 1, 17, chunked(long)),
      (e: unknown) => e instanceof MalformedResponseError && /records claim 126 bytes/.test(e.message),
    )
  })
})
