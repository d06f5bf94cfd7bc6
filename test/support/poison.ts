// Bytes-level helpers for the poison input tests: produce records whose values and headers are
// arbitrary bytes (invalid JSON, invalid UTF-8, larger than a fetch), read a topic back with
// its raw header bytes, and change a topic's config while an app runs.
import assert from 'node:assert/strict'
import { Consumer, type Message, MessagesStreamModes, Producer } from '@platformatic/kafka'
import { bootstrapServers, createAdmin, uniqueName } from './kafka.ts'

export interface RawRecord {
  partition: number
  key: Buffer
  value: Buffer
  /** Header pairs in wire order (names may repeat). */
  headers: Array<[Buffer, Buffer]>
}

export interface ReadRawRecord extends RawRecord {
  offset: number
}

/** Bytes that are not UTF-8: a lone continuation byte, an overlong form, a truncated sequence. */
export const INVALID_UTF8 = Buffer.from([0x75, 0x80, 0xc0, 0xaf, 0xe2, 0x82])

/** Produces `records` in order (idempotent, acks=all), in requests of at most `batchSize`. */
export async function produceRaw(
  topic: string,
  records: readonly RawRecord[],
  batchSize = 500,
): Promise<void> {
  const producer = new Producer({
    clientId: 'multilane-test-poison-producer',
    bootstrapBrokers: bootstrapServers(),
    idempotent: true,
  })
  try {
    for (let start = 0; start < records.length; start += batchSize) {
      await producer.send({
        acks: -1,
        messages: records.slice(start, start + batchSize).map((r) => ({
          topic,
          partition: r.partition,
          key: r.key,
          value: r.value,
          // Distinct Buffer objects: a name may appear twice.
          headers: new Map(r.headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
        })),
      })
    }
  } finally {
    await producer.close()
  }
}

/** Reads exactly `count` records of `topic` from the beginning, bytes as they are on the broker. */
export async function readRaw(topic: string, count: number, timeoutMs = 30_000): Promise<ReadRawRecord[]> {
  const consumer = new Consumer({
    clientId: 'multilane-test-poison-reader',
    groupId: uniqueName('poison-reader'),
    bootstrapBrokers: bootstrapServers(),
    maxWaitTime: 200,
  })
  const out: ReadRawRecord[] = []
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    })
    const timer = setTimeout(() => {
      void stream.close()
    }, timeoutMs)
    for await (const message of stream as AsyncIterable<Message<Buffer, Buffer, Buffer, Buffer>>) {
      out.push({
        partition: message.partition,
        offset: Number(message.offset),
        key: message.key,
        value: message.value,
        headers: [...message.headers],
      })
      if (out.length === count) break
    }
    clearTimeout(timer)
    await stream.close()
    if (out.length < count)
      throw new Error(`read ${out.length} of ${count} records of ${topic} within ${timeoutMs} ms`)
  } finally {
    await consumer.close(true)
  }
  return out
}

/** Sets one config of a topic (IncrementalAlterConfigs SET). */
export async function setTopicConfig(topic: string, name: string, value: string): Promise<void> {
  const admin = createAdmin()
  try {
    await admin.incrementalAlterConfigs({
      resources: [{ resourceType: 2, resourceName: topic, configs: [{ name, configOperation: 0, value }] }],
    })
  } finally {
    await admin.close()
  }
}

/** The value of header `name` in raw pairs (the last one), or undefined. */
export function rawHeader(headers: ReadonlyArray<[Buffer, Buffer]>, name: string): Buffer | undefined {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0].toString() === name) return headers[i]![1]
  return undefined
}

/** `count` records over `partitions`: key `k<i % 20>`, value `{"i":i}`, header seq=i; `poison(i)` may replace one. */
export function records(
  count: number,
  partitions: number,
  poison: (i: number, r: RawRecord) => RawRecord = (_i, r) => r,
): RawRecord[] {
  return Array.from({ length: count }, (_, i) =>
    poison(i, {
      partition: i % partitions,
      key: Buffer.from(`k${i % 20}`),
      value: Buffer.from(JSON.stringify({ i })),
      headers: [[Buffer.from('seq'), Buffer.from(String(i))]],
    }),
  )
}

export const seqOf = (r: { headers: { get(name: string): string | undefined } }) =>
  Number(r.headers.get('seq'))

/** Records handled to success, by seq; asserts none twice. */
export function successes(): { add(seq: number): void; readonly size: number; has(seq: number): boolean } {
  const done = new Set<number>()
  return {
    add(seq) {
      assert.ok(!done.has(seq), `record ${seq} handled to success twice`)
      done.add(seq)
    },
    get size() {
      return done.size
    },
    has: (seq) => done.has(seq),
  }
}
