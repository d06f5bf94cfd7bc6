// Record batches (magic 2), read in the chunks a response arrives in, decode to what
// @platformatic/kafka's readRecordsBatches decodes, field by field, for every compression, however
// the bytes are cut into chunks, headers with null values,
// null keys and values, several batches, transactional and control batches; a batch cut at the
// end is left out without an error; bytes that break the format (another magic, lengths past
// the end, a record count the records do not fill) are a MalformedResponseError naming the field.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createRecordsBatch, Reader, readRecordsBatches } from '@platformatic/kafka'
import fc from 'fast-check'
import { MalformedResponseError } from '../../../src/kafka/apis/decode.ts'
import type { RecordBatch } from '../../../src/kafka/records/batches.ts'
import { RecordCursor } from '../../../src/kafka/records/cursor.ts'
import { decodeBatches, recordsOf } from '../../support/record-batches.ts'

type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

interface Message {
  key: Buffer | null
  value: Buffer | null
  headers: Array<[Buffer, Buffer | null]>
  timestamp: bigint
}

interface BatchSpec {
  messages: Message[]
  compression: Compression
  baseOffset: bigint
  leaderEpoch: number
  /** A transactional batch of this producer (producer id, epoch). */
  producer?: { id: bigint; epoch: number }
  /** Attribute bits set after encoding (0x20 control, 0x08 log-append time). */
  extraAttributes?: number
}

function encode(spec: BatchSpec): Buffer {
  const buffer = Buffer.from(
    createRecordsBatch(
      spec.messages.map((m) => ({
        topic: 't',
        key: m.key,
        value: m.value,
        headers: new Map(m.headers),
        timestamp: m.timestamp,
      })) as Parameters<typeof createRecordsBatch>[0],
      {
        compression: spec.compression,
        partitionLeaderEpoch: spec.leaderEpoch,
        ...(spec.producer
          ? { transactionalId: 'tx', producerId: spec.producer.id, producerEpoch: spec.producer.epoch }
          : {}),
      },
    ).buffer,
  )
  buffer.writeBigInt64BE(spec.baseOffset, 0)
  if (spec.extraAttributes) buffer.writeInt16BE(buffer.readInt16BE(21) | spec.extraAttributes, 21)
  return buffer
}

/**
 * Ours and platformatic's decoding of `bytes`, compared field by field; ours reads the bytes as
 * they would arrive in a response: in one chunk, or cut in chunks of 1, 7 and 100 bytes (so
 * batch headers, length varints and records straddle chunks).
 */
function assertSameAsPlatformatic(
  bytes: Buffer,
  chunks: readonly number[] = [bytes.length, 1, 7, 100],
): RecordBatch[] {
  let ours: RecordBatch[] = []
  for (const chunk of chunks) ours = assertChunkedSameAsPlatformatic(bytes, Math.max(1, chunk))
  return ours
}

function assertChunkedSameAsPlatformatic(bytes: Buffer, chunk: number): RecordBatch[] {
  const ours = decodeBatches(bytes, chunk)
  const theirs = readRecordsBatches(Reader.from(bytes))
  assert.equal(ours.length, theirs.length, 'batches')
  ours.forEach((batch, i) => {
    const expected = theirs[i]!
    assert.deepEqual(
      {
        baseOffset: batch.baseOffset,
        lastOffsetDelta: batch.lastOffsetDelta,
        partitionLeaderEpoch: batch.partitionLeaderEpoch,
        attributes: batch.attributes,
        firstTimestamp: batch.firstTimestamp,
        maxTimestamp: batch.maxTimestamp,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        baseSequence: batch.baseSequence,
        recordCount: batch.recordCount,
      },
      {
        baseOffset: Number(expected.firstOffset),
        lastOffsetDelta: expected.lastOffsetDelta,
        partitionLeaderEpoch: expected.partitionLeaderEpoch,
        attributes: expected.attributes,
        firstTimestamp: Number(expected.firstTimestamp),
        maxTimestamp: Number(expected.maxTimestamp),
        producerId: expected.producerId,
        producerEpoch: expected.producerEpoch,
        baseSequence: expected.firstSequence,
        recordCount: expected.records.length,
      },
      `batch ${i} (chunks of ${chunk})`,
    )
    const records = recordsOf(batch)
    assert.equal(records.length, expected.records.length, `records of batch ${i}`)
    records.forEach((r, j) => {
      const e = expected.records[j]!
      assert.equal(r.offsetDelta, e.offsetDelta, `offset delta of ${i}/${j}`)
      assert.equal(r.timestampDelta, Number(e.timestampDelta), `timestamp delta of ${i}/${j}`)
      assert.deepEqual(r.key, e.key, `key of ${i}/${j}`)
      assert.deepEqual(r.value, e.value, `value of ${i}/${j}`)
      assert.deepEqual(r.headers, e.headers, `headers of ${i}/${j}`)
    })
  })
  return ours
}

const NOW = 1_765_000_000_000n

function messages(n: number, withHeaders = true): Message[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 3 === 0 ? null : Buffer.from(`key-${i}`),
    value: i % 4 === 1 ? null : Buffer.from(`value-${i}-`.repeat(i + 1)),
    headers: withHeaders
      ? [
          [Buffer.from('h'), Buffer.from(`${i}`)],
          [Buffer.from('empty'), null],
          [Buffer.from('h'), Buffer.from('again')],
        ]
      : [],
    // Out of order on purpose: negative timestamp deltas.
    timestamp: NOW + BigInt((i * 37) % 11) - 5n,
  }))
}

describe('record batches', () => {
  for (const compression of COMPRESSIONS) {
    it(`${compression}: batches, headers with null values, null keys and values decode as platformatic's`, () => {
      const bytes = Buffer.concat([
        encode({ messages: messages(7), compression, baseOffset: 0n, leaderEpoch: 3 }),
        encode({ messages: messages(1, false), compression, baseOffset: 7n, leaderEpoch: 3 }),
        encode({ messages: messages(300), compression, baseOffset: 8n, leaderEpoch: 4 }),
      ])
      const batches = assertSameAsPlatformatic(bytes)
      assert.deepEqual(
        batches.map((b) => b.baseOffset),
        [0, 7, 8],
      )
    })
  }

  it('transactional and control batches keep their producer and attributes', () => {
    const producer = { id: 4242n, epoch: 3 }
    const bytes = Buffer.concat([
      encode({ messages: messages(3), compression: 'none', baseOffset: 10n, leaderEpoch: 1, producer }),
      encode({
        messages: messages(1, false),
        compression: 'none',
        baseOffset: 13n,
        leaderEpoch: 1,
        producer,
        extraAttributes: 0x20,
      }),
      encode({ messages: messages(2), compression: 'lz4', baseOffset: 14n, leaderEpoch: 1, producer }),
    ])
    const batches = assertSameAsPlatformatic(bytes)
    assert.deepEqual(
      batches.map((b) => [b.producerId, b.producerEpoch, b.attributes & 0x30]),
      [
        [4242n, 3, 0x10],
        [4242n, 3, 0x30],
        [4242n, 3, 0x10],
      ],
    )
  })

  it('a batch cut at the end is left out, wherever the cut falls', () => {
    const first = encode({ messages: messages(5), compression: 'none', baseOffset: 0n, leaderEpoch: 0 })
    const second = encode({ messages: messages(5), compression: 'gzip', baseOffset: 5n, leaderEpoch: 0 })
    const whole = Buffer.concat([first, second])
    for (let cut = first.length; cut < whole.length; cut++) {
      const batches = assertSameAsPlatformatic(whole.subarray(0, cut), [cut, 13])
      assert.equal(batches.length, 1, `cut at ${cut}`)
    }
    assert.deepEqual(decodeBatches(first.subarray(0, 11)), [])
    assert.deepEqual(decodeBatches(Buffer.alloc(0)), [])
  })

  it('a view into a larger buffer decodes the same as a copy', () => {
    const batch = encode({ messages: messages(4), compression: 'none', baseOffset: 3n, leaderEpoch: 0 })
    const big = Buffer.concat([Buffer.from('prefix'), batch, Buffer.from('suffix')])
    const view = big.subarray(6, 6 + batch.length)
    assert.deepEqual(recordsOf(decodeBatches(view)[0]!), recordsOf(decodeBatches(batch)[0]!))
  })

  it('random records in random batches decode as platformatic decodes them', () => {
    const bytesArb = fc.option(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      { nil: null },
    )
    const messageArb = fc.record({
      key: bytesArb,
      value: bytesArb,
      headers: fc.array(
        fc.tuple(
          fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
          bytesArb,
        ),
        { maxLength: 4 },
      ),
      timestamp: fc.bigInt({ min: 0n, max: 2n ** 45n }),
    })
    const batchArb = fc.record({
      messages: fc.array(messageArb, { minLength: 1, maxLength: 40 }),
      compression: fc.constantFrom(...COMPRESSIONS),
      baseOffset: fc.bigInt({ min: 0n, max: 2n ** 52n }),
      leaderEpoch: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    })
    fc.assert(
      fc.property(
        fc.array(batchArb, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.integer({ min: 1, max: 3000 }),
        (specs, cutSeed, chunk) => {
          const whole = Buffer.concat(specs.map(encode))
          // Sometimes whole, sometimes cut somewhere in the last batch.
          const last = whole.length - encode(specs[specs.length - 1]!).length
          const cut = cutSeed % 2 === 0 ? whole.length : last + (cutSeed % (whole.length - last))
          assertSameAsPlatformatic(whole.subarray(0, cut), [cut, chunk])
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('malformed record batches', () => {
  const good = encode({ messages: messages(3), compression: 'none', baseOffset: 0n, leaderEpoch: 0 })

  function scan(bytes: Buffer): void {
    for (const batch of decodeBatches(bytes)) {
      const cursor = new RecordCursor().reset(batch)
      while (cursor.next());
    }
  }

  function assertMalformed(bytes: Buffer, detail: RegExp): void {
    assert.throws(
      () => scan(bytes),
      (error: unknown) => {
        assert.ok(error instanceof MalformedResponseError, `a MalformedResponseError, not ${String(error)}`)
        assert.equal(error.code, 'MALFORMED_RESPONSE')
        assert.match(error.message, /^malformed Test v0 response: /)
        assert.match(error.message, detail)
        return true
      },
    )
  }

  it('a magic other than 2 is refused, naming it', () => {
    for (const magic of [0, 1, 3]) {
      const bytes = Buffer.from(good)
      bytes.writeInt8(magic, 16)
      assertMalformed(bytes, new RegExp(`magic ${magic}: only magic 2 is supported`))
    }
  })

  it('a batch length shorter than the batch header is refused', () => {
    const bytes = Buffer.from(good)
    bytes.writeInt32BE(20, 8)
    assertMalformed(bytes, /claims 20 bytes, less than its header/)
  })

  it('a record count the records do not fill, or records left over, is refused', () => {
    const more = Buffer.from(good)
    more.writeInt32BE(4, 57)
    assertMalformed(more, /a record claims \d+ bytes past the batch's end|runs past/)
    const fewer = Buffer.from(good)
    fewer.writeInt32BE(2, 57)
    assertMalformed(fewer, /bytes after the batch's last record/)
    const negative = Buffer.from(good)
    negative.writeInt32BE(-1, 57)
    assertMalformed(negative, /claims -1 records/)
  })

  it('a record length past the batch, or a key past its record, is refused', () => {
    // One record, key "k" of one byte, a value of 40.
    const one = encode({
      messages: [{ key: Buffer.from('k'), value: Buffer.from('v'.repeat(40)), headers: [], timestamp: NOW }],
      compression: 'none',
      baseOffset: 0n,
      leaderEpoch: 0,
    })
    // The record's length varint (zigzag) at 61: claim 63 bytes, more than the batch holds.
    const longRecord = Buffer.from(one)
    longRecord[61] = 126
    assertMalformed(longRecord, /a record claims 63 bytes past the batch's end/)
    // length (1 byte), attributes, timestamp delta 0 (1), offset delta 0 (1), key length at 65.
    assert.equal(one[65], 2)
    one[65] = 60
    assertMalformed(one, /a key or value runs past its record/)
  })

  it('a compressed batch that does not decompress is refused', () => {
    const bytes = encode({ messages: messages(3), compression: 'gzip', baseOffset: 0n, leaderEpoch: 0 })
    bytes.fill(0x55, 61)
    assertMalformed(bytes, /does not decompress/)
  })

  it('an unknown compression is refused', () => {
    const bytes = Buffer.from(good)
    bytes.writeInt16BE(bytes.readInt16BE(21) | 0x07, 21)
    assertMalformed(bytes, /unknown compression 7/)
  })
})
