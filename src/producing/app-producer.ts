/**
 * `app.producer`: produce from handlers (consume → transform → produce) or anywhere else, on the
 * app's connection (`createApp({ kafka })`) and the same idempotent, acks=all client the dead
 * letter queue uses. Closed with the app.
 */
import { ProducerError } from './errors.ts'
import {
  failureReason,
  type ProducerClient,
  requestChunks,
  topicList,
  type WireMessage,
} from './producer-client.ts'

/** Header values as users give them; names are strings. */
export type ProduceHeaders =
  | Readonly<Record<string, Buffer | string>>
  | ReadonlyMap<string, Buffer | string>
  | Iterable<readonly [string, Buffer | string]>

/** The values `app.producer` takes without a serializer: bytes, text, or `null` (a tombstone). */
export type RawValue = Buffer | string | null

/** One record to produce. */
export interface ProduceRecord<V = RawValue> {
  topic: string
  /** Decides the partition (murmur2 of the key) when `partition` is not given. */
  key?: Buffer | string | null
  value: V
  headers?: ProduceHeaders
  /** A fixed partition; default: by key, round robin without one. */
  partition?: number
  /** Milliseconds since the epoch; default: the broker's or producer's time. */
  timestamp?: number
}

/** Where a record landed. */
export interface ProducedRecordMetadata {
  topic: string
  partition: number
  offset: number
}

/** What a batch produce wrote: the first offset of the batch in each partition it touched. */
export interface ProducedBatch {
  count: number
  partitions: Array<{ topic: string; partition: number; baseOffset: number }>
}

/** Turns a value into bytes (or text, sent as UTF-8). */
export type Serializer<T> = (value: T, topic: string) => Buffer | string

/** JSON.stringify as UTF-8 bytes; `undefined` (which JSON cannot hold) is refused. */
export function jsonSerializer<T = unknown>(): Serializer<T> {
  return (value, topic) => {
    const text = JSON.stringify(value)
    if (text === undefined) {
      throw new ProducerError(
        'INVALID_PRODUCE_RECORD',
        `record for topic "${topic}": value ${typeof value} cannot be serialized as JSON`,
      )
    }
    return text
  }
}

/**
 * Adds trace context headers (W3C `traceparent`) to a record being produced; set by tracing
 * when it is on. Headers the caller set are kept.
 */
export type HeaderInjector = (set: (name: string, value: string) => void) => void

/**
 * Produces records to Kafka. `send` and `sendBatch` resolve once every replica in sync has the
 * records (acks=all, idempotent: a retried send writes nothing twice). Errors are
 * ProducerError: PRODUCE_TOPIC_NOT_FOUND (nothing sent), INVALID_PRODUCE_RECORD (nothing sent),
 * PRODUCE_TIMEOUT, PRODUCE_FAILED, PRODUCER_CLOSED.
 */
export class AppProducer<V = RawValue> {
  readonly #client: ProducerClient
  readonly #serializer: Serializer<V> | undefined
  readonly #injector: () => HeaderInjector | undefined

  /** @internal The app creates it: use `app.producer`. */
  constructor(
    client: ProducerClient,
    serializer?: Serializer<V>,
    injector?: () => HeaderInjector | undefined,
  ) {
    this.#client = client
    this.#serializer = serializer
    this.#injector = injector ?? (() => undefined)
  }

  /** The same producer, with values turned into bytes by `serializer` (e.g. `jsonSerializer()`). */
  withSerializer<T>(serializer: Serializer<T>): AppProducer<T> {
    return new AppProducer<T>(this.#client, serializer, this.#injector)
  }

  /** Produces one record; resolves with its partition and offset. */
  async send(record: ProduceRecord<V>): Promise<ProducedRecordMetadata> {
    const message = this.#toWire(record, 'record')
    const result = await this.#client.run(async () => {
      await this.#client.requireTopics([message], () => 'record')
      return this.#produce([message])
    })
    const landed = result.partitions[0]
    if (!landed)
      throw new ProducerError('PRODUCE_FAILED', `the broker reported no offset for "${message.topic}"`)
    return { topic: landed.topic, partition: landed.partition, offset: landed.baseOffset }
  }

  /**
   * Produces records in requests of at most ~512 KiB, in order; every record is checked (and every topic looked
   * up) before anything is sent. Records of one partition keep their order.
   */
  async sendBatch(records: readonly ProduceRecord<V>[]): Promise<ProducedBatch> {
    if (!Array.isArray(records)) {
      throw new ProducerError(
        'INVALID_PRODUCE_RECORD',
        `sendBatch: records must be an array, got ${typeof records}`,
      )
    }
    const messages = records.map((r, i) => this.#toWire(r, `records[${i}]`))
    if (messages.length === 0) return { count: 0, partitions: [] }
    return this.#client.run(async () => {
      await this.#client.requireTopics(messages, (i) => `records[${i}]`)
      return this.#produce(messages)
    })
  }

  async #produce(messages: WireMessage[]): Promise<ProducedBatch> {
    const firstOffsets = new Map<string, { topic: string; partition: number; baseOffset: number }>()
    let sent = 0
    for (const chunk of requestChunks(messages)) {
      let result: Awaited<ReturnType<ProducerClient['send']>>
      try {
        result = await this.#client.send(chunk)
      } catch (error) {
        throw await this.#failure(error, messages, chunk, sent)
      }
      sent += chunk.length
      for (const o of result.offsets ?? []) {
        const k = `${o.topic}\u0000${o.partition}`
        if (!firstOffsets.has(k))
          firstOffsets.set(k, { topic: o.topic, partition: o.partition, baseOffset: Number(o.offset) })
      }
    }
    return { count: messages.length, partitions: [...firstOffsets.values()] }
  }

  async #failure(
    error: unknown,
    messages: WireMessage[],
    chunk: WireMessage[],
    sent: number,
  ): Promise<Error> {
    const before = sent > 0 ? ` (${sent} of ${messages.length} records were produced before the failure)` : ''
    if (error instanceof ProducerError && error.code === 'PRODUCER_CLOSED') return error
    // A topic deleted under the producer: say so, as a send to a missing topic does.
    try {
      await this.#client.requireTopics(chunk, (i) => `records[${sent + i}]`)
    } catch (lookup) {
      if (lookup instanceof ProducerError && lookup.code === 'PRODUCE_TOPIC_NOT_FOUND') {
        return new ProducerError(lookup.code, lookup.message + before, { cause: error })
      }
    }
    if (error instanceof ProducerError) {
      error.message += before
      return error
    }
    return new ProducerError(
      'PRODUCE_FAILED',
      `producing ${messages.length} record${messages.length === 1 ? '' : 's'} to ${topicList(messages)} failed: ${failureReason(error)}${before}`,
      { cause: error },
    )
  }

  #toWire(record: ProduceRecord<V>, where: string): WireMessage {
    if (typeof record !== 'object' || record === null) {
      throw invalid(
        where,
        `must be an object { topic, key?, value, headers?, partition? }, got ${typeof record}`,
      )
    }
    const { topic, key, partition, timestamp } = record
    if (typeof topic !== 'string' || topic.length === 0)
      throw invalid(where, 'topic must be a non-empty string')
    if (partition !== undefined && !(Number.isSafeInteger(partition) && partition >= 0)) {
      throw invalid(where, `partition must be an integer ≥ 0, got ${String(partition)}`)
    }
    if (timestamp !== undefined && !(Number.isSafeInteger(timestamp) && timestamp >= 0)) {
      throw invalid(
        where,
        `timestamp must be milliseconds since the epoch (an integer ≥ 0), got ${String(timestamp)}`,
      )
    }
    const message: WireMessage = { topic, headers: this.#headers(record.headers, where) }
    const keyBytes = bytes(key, `${where}.key`)
    if (keyBytes) message.key = keyBytes
    const valueBytes = this.#value(record.value, topic, where)
    if (valueBytes) message.value = valueBytes
    if (partition !== undefined) message.partition = partition
    if (timestamp !== undefined) message.timestamp = BigInt(timestamp)
    return message
  }

  #value(value: V, topic: string, where: string): Buffer | undefined {
    if (this.#serializer) {
      let serialized: Buffer | string
      try {
        serialized = this.#serializer(value, topic)
      } catch (error) {
        if (error instanceof ProducerError) throw error
        throw invalid(where, `the serializer failed on the value: ${(error as Error).message}`, error)
      }
      return bytes(serialized, `${where}.value (serialized)`)
    }
    return bytes(
      value,
      `${where}.value`,
      'pass a Buffer, a string or null, or use app.producer.withSerializer(jsonSerializer())',
    )
  }

  #headers(headers: ProduceHeaders | undefined, where: string): Map<Buffer, Buffer> {
    const out = new Map<Buffer, Buffer>()
    const names = new Set<string>()
    if (headers !== undefined) {
      const entries: Iterable<readonly [string, unknown]> =
        headers instanceof Map || isIterable(headers)
          ? (headers as Iterable<readonly [string, unknown]>)
          : Object.entries(headers as Record<string, unknown>)
      for (const [name, value] of entries) {
        if (typeof name !== 'string' || name.length === 0)
          throw invalid(where, 'header names must be non-empty strings')
        const b = bytes(value, `${where}.headers.${name}`)
        out.set(Buffer.from(name), b ?? Buffer.alloc(0))
        names.add(name)
      }
    }
    const inject = this.#injector()
    if (inject) {
      inject((name, value) => {
        if (!names.has(name)) out.set(Buffer.from(name), Buffer.from(value))
      })
    }
    return out
  }
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function'
}

function bytes(value: unknown, where: string, hint?: string): Buffer | undefined {
  if (value === null || value === undefined) return undefined
  if (Buffer.isBuffer(value)) return value
  if (typeof value === 'string') return Buffer.from(value)
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  throw new ProducerError(
    'INVALID_PRODUCE_RECORD',
    `${where}: must be a Buffer or a string, got ${Array.isArray(value) ? 'an array' : typeof value}${hint ? ` (${hint})` : ''}`,
  )
}

function invalid(where: string, rule: string, cause?: unknown): ProducerError {
  return new ProducerError(
    'INVALID_PRODUCE_RECORD',
    `${where}: ${rule}`,
    cause === undefined ? undefined : { cause },
  )
}
