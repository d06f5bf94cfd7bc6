// A partition's fetched record batches become records from the fetch position on: records below
// it, transaction markers and (read_committed) aborted batches are passed over but move the
// position; an offset past 2^53 - 1 is refused; log-append time stamps records with the batch's max timestamp. Each record is one
// object whose key, value and headers are cut out of the fetched bytes on first access and then
// kept; its headers array is its own; a record that breaks the format is a MalformedResponseError.
// Serialized or logged, a record shows its key, value and headers.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import { createRecordsBatch } from '@platformatic/kafka'
import { decodeRecords, FetchedRecord } from '../../../src/engine/fetched-records.ts'
import { recordBytes } from '../../../src/engine/partition-buffer.ts'
import { MalformedResponseError } from '../../../src/kafka/apis/decode.ts'
import { readRecordBatches } from '../../../src/kafka/records/batches.ts'
import { decodeBatches } from '../../support/record-batches.ts'

const T0 = 1_765_000_000_000n

function batch(
  baseOffset: number,
  values: Array<string | null>,
  options: { attributes?: number; producerId?: bigint; headers?: boolean } = {},
): Buffer {
  const buffer = Buffer.from(
    createRecordsBatch(
      values.map((v, i) => ({
        topic: 't',
        key: Buffer.from(`k${baseOffset + i}`),
        value: v === null ? null : Buffer.from(v),
        headers: options.headers ? new Map([[Buffer.from('h'), Buffer.from(`${i}`)]]) : new Map(),
        timestamp: T0 + BigInt(i * 10),
      })) as Parameters<typeof createRecordsBatch>[0],
      {
        partitionLeaderEpoch: 5,
        ...(options.producerId !== undefined
          ? { transactionalId: 'tx', producerId: options.producerId, producerEpoch: 0 }
          : {}),
      },
    ).buffer,
  )
  buffer.writeBigInt64BE(BigInt(baseOffset), 0)
  if (options.attributes) buffer.writeInt16BE(buffer.readInt16BE(21) | options.attributes, 21)
  return buffer
}

const CONTROL = 0x20
const LOG_APPEND_TIME = 0x08

describe('fetched records', () => {
  it('records below the fetch position are passed over; the position moves past the batch', () => {
    const batches = decodeBatches(Buffer.concat([batch(0, ['a', 'b', 'c', 'd']), batch(4, ['e'])]))
    const decoded = decodeRecords('t', 2, 2, batches, null, false)
    assert.deepEqual(
      decoded.records.map((r) => [r.topic, r.partition, r.offset, r.value?.toString(), r.leaderEpoch]),
      [
        ['t', 2, 2, 'c', 5],
        ['t', 2, 3, 'd', 5],
        ['t', 2, 4, 'e', 5],
      ],
    )
    assert.equal(decoded.position, 5)
    assert.equal(decoded.lastEpoch, 5)
    assert.equal(decoded.bytes, 3 * (2 + 1))
  })

  it('transaction markers and, read_committed, aborted batches hand nothing over but move the position', () => {
    const bytes = Buffer.concat([
      batch(0, ['kept'], { producerId: 1n }),
      batch(1, ['aborted-1', 'aborted-2'], { producerId: 2n }),
      batch(3, ['marker'], { producerId: 2n, attributes: CONTROL }),
      batch(4, ['marker'], { producerId: 1n, attributes: CONTROL }),
      batch(5, ['after'], { producerId: 2n }),
    ])
    const aborted = [{ producerId: 2n, firstOffset: 1n }]
    const committed = decodeRecords('t', 0, 0, decodeBatches(bytes), aborted, true)
    assert.deepEqual(
      committed.records.map((r) => r.offset),
      [0, 5],
    )
    assert.equal(committed.position, 6)
    const uncommitted = decodeRecords('t', 0, 0, decodeBatches(bytes), aborted, false)
    assert.deepEqual(
      uncommitted.records.map((r) => r.offset),
      [0, 1, 2, 5],
    )
  })

  it('create time: the batch base timestamp plus the delta; log-append time: the batch max timestamp', () => {
    const create = decodeRecords('t', 0, 0, decodeBatches(batch(0, ['a', 'b', 'c'])), null, false)
    assert.deepEqual(
      create.records.map((r) => r.timestamp),
      [Number(T0), Number(T0) + 10, Number(T0) + 20],
    )
    const appended = decodeRecords(
      't',
      0,
      0,
      decodeBatches(batch(0, ['a', 'b', 'c'], { attributes: LOG_APPEND_TIME })),
      null,
      false,
    )
    assert.deepEqual(
      appended.records.map((r) => r.timestamp),
      [Number(T0) + 20, Number(T0) + 20, Number(T0) + 20],
    )
  })

  it('key, value and headers are cut out once and kept; each record has its own headers array', () => {
    const { records } = decodeRecords(
      't',
      0,
      0,
      decodeBatches(Buffer.concat([batch(0, ['a', null]), batch(2, ['x'], { headers: true })])),
      null,
      false,
    )
    const [first, nullValue, withHeaders] = records as FetchedRecord[]
    assert.ok(first instanceof FetchedRecord)
    assert.equal(first.value, first.value, 'the same Buffer on every access')
    assert.equal(first.key, first.key)
    assert.equal(first.key?.toString(), 'k0')
    assert.equal(nullValue!.value, null)
    assert.equal(first.headers.length, 0)
    assert.notEqual(first.headers, nullValue!.headers, 'empty headers are not shared')
    first.headers.push([Buffer.from('added'), null])
    assert.equal(nullValue!.headers.length, 0)
    assert.equal(first.headers.length, 1, 'kept after a change')
    assert.deepEqual(withHeaders!.headers, [[Buffer.from('h'), Buffer.from('0')]])
    // The record is writable like the ConsumerRecord it implements.
    withHeaders!.value = Buffer.from('replaced')
    assert.equal(withHeaders!.value.toString(), 'replaced')
    // Buffers count what was fetched.
    assert.deepEqual(records.map(recordBytes), [3, 2, 3])
  })

  it('JSON.stringify, console.log and toJSON show key, value and headers though they are accessors', () => {
    const { records } = decodeRecords(
      't',
      0,
      0,
      decodeBatches(batch(0, ['a'], { headers: true })),
      null,
      false,
    )
    const record = records[0] as FetchedRecord
    const json = JSON.parse(JSON.stringify(record)) as Record<string, unknown>
    assert.deepEqual(json.key, { type: 'Buffer', data: [...Buffer.from('k0')] })
    assert.deepEqual(json.value, { type: 'Buffer', data: [...Buffer.from('a')] })
    assert.equal((json.headers as unknown[]).length, 1)
    assert.equal(json.offset, 0)
    const shown = inspect(record)
    assert.match(shown, /^FetchedRecord \{/)
    assert.match(shown, /key: <Buffer 6b 30>/)
    assert.match(shown, /value: <Buffer 61>/)
  })

  it('an offset above 2^53 - 1 is refused (OFFSET_OUT_OF_SAFE_RANGE), not rounded', () => {
    const bytes = batch(0, ['a', 'b'])
    bytes.writeBigInt64BE(2n ** 53n - 1n, 0)
    assert.throws(() => decodeRecords('t', 0, 0, decodeBatches(bytes), null, false), {
      code: 'OFFSET_OUT_OF_SAFE_RANGE',
      message: /offset 9007199254740992 exceeds 2\^53-1/,
    })
  })

  it('a record that runs past its batch is a MalformedResponseError naming the response that carried it', () => {
    const bytes = batch(0, ['a'.repeat(40)])
    bytes[61] = 126 // the record claims 63 bytes, more than the batch holds
    const batches = readRecordBatches([bytes], { api: 'Fetch', version: 17 })
    assert.throws(
      () => decodeRecords('t', 0, 0, batches, null, false),
      (error: unknown) => {
        assert.ok(error instanceof MalformedResponseError)
        assert.match(error.message, /^malformed Fetch v17 response: record batch: a record claims 63 bytes/)
        return true
      },
    )
  })
})
