import type { ConsumerRecord } from '../engine/types.ts'
import { DeserializationError, type Deserializer } from './deserializers.ts'

/** Record headers, decoded as UTF-8 on access (the raw pairs stay available). */
export class RecordHeaders {
  readonly #raw: ReadonlyArray<[Buffer | null, Buffer | null]>

  constructor(raw: ReadonlyArray<[Buffer | null, Buffer | null]>) {
    this.#raw = raw
  }

  /** The last value of header `name` as text, or undefined. */
  get(name: string): string | undefined {
    const bytes = Buffer.byteLength(name, 'utf8')
    for (let i = this.#raw.length - 1; i >= 0; i--) {
      const [k, v] = this.#raw[i]!
      if (k !== null && nameIs(k, name, bytes)) return v?.toString('utf8')
    }
    return undefined
  }

  /** Every value of header `name`, in order. */
  getAll(name: string): string[] {
    const bytes = Buffer.byteLength(name, 'utf8')
    const out: string[] = []
    for (const [k, v] of this.#raw)
      if (k !== null && nameIs(k, name, bytes)) out.push(v?.toString('utf8') ?? '')
    return out
  }

  has(name: string): boolean {
    // A header present with a null value is there: `get` alone cannot tell.
    const bytes = Buffer.byteLength(name, 'utf8')
    return this.#raw.some(([k]) => k !== null && nameIs(k, name, bytes))
  }

  /** The raw header pairs in wire order. */
  raw(): ReadonlyArray<[Buffer | null, Buffer | null]> {
    return this.#raw
  }

  toObject(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of this.#raw) if (k) out[k.toString('utf8')] = v?.toString('utf8') ?? ''
    return out
  }
}

/**
 * Whether header name bytes `k` spell `name` (`bytes`: its UTF-8 length). Routing by header
 * runs this for every record a segment reads: an ASCII name is compared byte by byte, without
 * decoding; others are decoded and compared.
 */
function nameIs(k: Buffer, name: string, bytes: number): boolean {
  if (k.length !== bytes) return false
  if (bytes !== name.length) return k.toString('utf8') === name
  for (let j = 0; j < bytes; j++) if (k[j] !== name.charCodeAt(j)) return false
  return true
}

const UNSET = Symbol('unset')

/**
 * A record as handlers see it. Metadata, key and headers are available without touching the
 * value; `payload` deserializes on first access and caches the result (or the error).
 */
export class ConsumedRecord<T> {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  /** Milliseconds since the epoch. */
  readonly timestamp: number
  readonly raw: ConsumerRecord
  readonly #deserializer: Deserializer<T>
  #headers: RecordHeaders | undefined
  #payload: T | typeof UNSET = UNSET
  #payloadError: unknown

  constructor(raw: ConsumerRecord, deserializer: Deserializer<T>) {
    this.raw = raw
    this.topic = raw.topic
    this.partition = raw.partition
    this.offset = raw.offset
    this.timestamp = raw.timestamp
    this.#deserializer = deserializer
  }

  /**
   * How many times this record has been delivered, this delivery included: 1 the first time.
   * Share groups count redeliveries (a release, a lost lock); consumer groups always say 1.
   */
  get deliveryCount(): number {
    return (this.raw as { deliveryCount?: number }).deliveryCount ?? 1
  }

  /** The key bytes (null when the record has none). */
  get key(): Buffer | null {
    return this.raw.key
  }

  /** The key as UTF-8 text, or null. */
  get keyString(): string | null {
    return this.raw.key === null ? null : this.raw.key.toString('utf8')
  }

  get headers(): RecordHeaders {
    this.#headers ??= new RecordHeaders(this.raw.headers)
    return this.#headers
  }

  /** The raw value bytes. */
  get value(): Buffer | null {
    return this.raw.value
  }

  /** True once `payload` was read (parallel segments check that filtering did not need it). */
  get deserialized(): boolean {
    return this.#payload !== UNSET || this.#payloadError !== undefined
  }

  /** The deserialized value (computed once; a failure is cached and thrown again). */
  get payload(): T {
    if (this.#payload !== UNSET) return this.#payload
    if (this.#payloadError !== undefined) throw this.#payloadError
    try {
      this.#payload = this.#deserializer.deserialize(this.raw.value, this)
      return this.#payload
    } catch (error) {
      this.#payloadError = asDeserializationError(error, this.#deserializer.name, this)
      throw this.#payloadError
    }
  }
}

/**
 * What a deserializer threw, as a DeserializationError: a custom one's own error (a TypeError, a
 * schema library's) would otherwise be reported as a handler error. The original is the cause.
 */
function asDeserializationError(
  error: unknown,
  name: string,
  record: { topic: string; partition: number; offset: number },
): DeserializationError {
  if (error instanceof DeserializationError) return error
  const reason = error instanceof Error ? error.message : `threw ${String(error)}`
  return new DeserializationError(
    `${record.topic}#${record.partition}@${record.offset}: deserializer "${name}" failed: ${reason}`,
    { cause: error },
  )
}
