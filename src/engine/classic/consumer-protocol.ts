import { Reader, Writer } from '@platformatic/kafka'
import { ClassicProtocolError } from './errors.ts'

/**
 * The "consumer" protocol type's embedded messages: what a member puts in JoinGroup's protocol
 * metadata (its subscription) and what the leader hands each member through SyncGroup (its
 * assignment). Layouts follow Kafka's ConsumerProtocolSubscription.json and
 * ConsumerProtocolAssignment.json (valid versions 0–3, not flexible: int16 string lengths, int32
 * array counts and byte lengths, no tagged fields), each prefixed with an int16 version.
 */

/** The protocol type a classic consumer group registers with (JoinGroup's protocol_type). */
export const CONSUMER_PROTOCOL_TYPE = 'consumer'

/** The highest ConsumerProtocolSubscription / ConsumerProtocolAssignment version we write and read. */
export const CONSUMER_PROTOCOL_VERSION = 3

/** Partitions of one topic, as both messages carry them. */
export interface TopicPartitions {
  topic: string
  partitions: number[]
}

/** A member's subscription, decoded (or to encode). */
export interface ConsumerProtocolSubscription {
  /** The version on the wire (decoding keeps a newer one as found; its extra fields are dropped). */
  version: number
  topics: string[]
  /** Assignor-specific bytes (cooperative-sticky: the generation, see its assignor). */
  userData: Buffer | null
  /** v1+: what the member owns now; cooperative assignors revoke from it before moving. */
  ownedPartitions: TopicPartitions[]
  /** v2+: the generation ownedPartitions belong to; -1 when unknown or not sent. */
  generationId: number
  /** v3+: the member's client.rack, null when unset. */
  rackId: string | null
}

/** A member's assignment, decoded (or to encode). */
export interface ConsumerProtocolAssignment {
  version: number
  assignedPartitions: TopicPartitions[]
  userData: Buffer | null
}

// Java sorts topics and partitions before writing; the bytes are then the same whatever the
// caller's order, which keeps JoinGroup metadata stable across rejoins (the coordinator compares
// it to decide whether a rejoining leader changed its subscription).
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function sortedTopicPartitions(list: readonly TopicPartitions[]): TopicPartitions[] {
  const byTopic = new Map<string, Set<number>>()
  for (const { topic, partitions } of list) {
    const set = byTopic.get(topic) ?? new Set<number>()
    byTopic.set(topic, set)
    for (const p of partitions) set.add(p)
  }
  return [...byTopic.keys()]
    .sort(compareStrings)
    .map((topic) => ({ topic, partitions: [...byTopic.get(topic)!].sort((a, b) => a - b) }))
}

function checkVersion(message: string, version: number): void {
  if (!Number.isInteger(version) || version < 0 || version > CONSUMER_PROTOCOL_VERSION) {
    throw new RangeError(
      `${message}: version must be an integer from 0 to ${CONSUMER_PROTOCOL_VERSION}, got ${version}`,
    )
  }
}

function appendTopicPartitions(writer: Writer, list: readonly TopicPartitions[]): Writer {
  return writer.appendArray(
    sortedTopicPartitions(list),
    (w, { topic, partitions }) => {
      w.appendString(topic, false).appendArray(partitions, (w2, p) => w2.appendInt32(p), false, false)
    },
    false,
    false,
  )
}

/*
  ConsumerProtocolSubscription => version topics user_data owned_partitions generation_id rack_id
    version => INT16
    topics => ARRAY(STRING)                     (sorted)
    user_data => NULLABLE_BYTES
    owned_partitions => ARRAY(topic [partitions])   (v1+, sorted by topic then partition)
      topic => STRING
      partitions => ARRAY(INT32)
    generation_id => INT32                      (v2+, -1 unknown)
    rack_id => NULLABLE_STRING                  (v3+)
*/
/** Encodes a subscription at `version` (default 3); fields the version lacks are left out. */
export function encodeSubscription(
  subscription: Omit<ConsumerProtocolSubscription, 'version'> & { version?: number },
): Buffer {
  const version = subscription.version ?? CONSUMER_PROTOCOL_VERSION
  checkVersion('ConsumerProtocolSubscription', version)
  const writer = Writer.create()
    .appendInt16(version)
    .appendArray(
      [...new Set(subscription.topics)].sort(compareStrings),
      (w, t) => w.appendString(t, false),
      false,
      false,
    )
    .appendBytes(subscription.userData, false)
  if (version >= 1) appendTopicPartitions(writer, subscription.ownedPartitions)
  if (version >= 2) writer.appendInt32(subscription.generationId)
  if (version >= 3) writer.appendString(subscription.rackId, false)
  return writer.buffer
}

/*
  ConsumerProtocolAssignment => version assigned_partitions user_data
    version => INT16
    assigned_partitions => ARRAY(topic [partitions])
      topic => STRING
      partitions => ARRAY(INT32)
    user_data => NULLABLE_BYTES
  (v1–v3 have the v0 layout: the versions move in step with the subscription's.)
*/
/** Encodes an assignment at `version` (default 3). */
export function encodeAssignment(
  assignment: Omit<ConsumerProtocolAssignment, 'version'> & { version?: number },
): Buffer {
  const version = assignment.version ?? CONSUMER_PROTOCOL_VERSION
  checkVersion('ConsumerProtocolAssignment', version)
  const writer = Writer.create().appendInt16(version)
  appendTopicPartitions(writer, assignment.assignedPartitions)
  writer.appendBytes(assignment.userData, false)
  return writer.buffer
}

/**
 * Bounds-checked reads over the library's Reader: its own reads trust lengths from the wire,
 * and a length past the end would yield a short string rather than an error.
 */
class CheckedReader {
  readonly #reader: Reader
  readonly #message: string

  constructor(message: string, buffer: Buffer) {
    this.#reader = Reader.from(buffer)
    this.#message = message
  }

  get remaining(): number {
    return this.#reader.remaining
  }

  fail(field: string, detail: string): ClassicProtocolError {
    return new ClassicProtocolError(
      'CONSUMER_PROTOCOL_MALFORMED',
      `malformed ${this.#message}: ${field}: ${detail} at byte ${this.#reader.position}`,
    )
  }

  #need(field: string, bytes: number): void {
    if (this.#reader.remaining < bytes) {
      throw this.fail(field, `needs ${bytes} bytes, ${this.#reader.remaining} left (truncated)`)
    }
  }

  int16(field: string): number {
    this.#need(field, 2)
    return this.#reader.readInt16()
  }

  int32(field: string): number {
    this.#need(field, 4)
    return this.#reader.readInt32()
  }

  nullableString(field: string): string | null {
    this.#need(field, 2)
    const length = this.#reader.peekInt16()
    if (length < -1) throw this.fail(field, `negative length ${length}`)
    this.#need(field, 2 + Math.max(length, 0))
    return this.#reader.readNullableString(false)
  }

  string(field: string): string {
    const value = this.nullableString(field)
    if (value === null) throw this.fail(field, 'null where the schema allows none')
    return value
  }

  nullableBytes(field: string): Buffer | null {
    this.#need(field, 4)
    const length = this.#reader.peekInt32()
    if (length < -1) throw this.fail(field, `negative length ${length}`)
    this.#need(field, 4 + Math.max(length, 0))
    // Copied so the caller may keep it without holding the whole JoinGroup response alive.
    const bytes = this.#reader.readNullableBytes(false)
    return bytes === null ? null : Buffer.from(bytes)
  }

  /** An array whose entries take at least `minEntryBytes` each (caps counts a corrupt length claims). */
  array<T>(field: string, minEntryBytes: number, entry: () => T): T[] {
    const count = this.int32(field)
    // Kafka writes -1 for a null array; none of these fields is nullable, and Java reads it as
    // empty only for nullable ones, so it is refused like any other negative count.
    if (count < 0) throw this.fail(field, `negative count ${count}`)
    if (count * minEntryBytes > this.#reader.remaining) {
      throw this.fail(
        field,
        `count ${count} does not fit in the ${this.#reader.remaining} bytes left (truncated)`,
      )
    }
    const out: T[] = []
    for (let i = 0; i < count; i++) out.push(entry())
    return out
  }
}

function readTopicPartitions(reader: CheckedReader, field: string): TopicPartitions[] {
  return reader.array(field, 6, () => ({
    topic: reader.string(`${field}.topic`),
    partitions: reader.array(`${field}.partitions`, 4, () => reader.int32(`${field}.partitions`)),
  }))
}

function readVersion(reader: CheckedReader): number {
  const version = reader.int16('version')
  // Java refuses versions below the lowest it knows; a negative version is corruption.
  if (version < 0) throw reader.fail('version', `unsupported version ${version}`)
  return version
}

/**
 * Decodes a member's subscription. A newer version is read with the v3 layout and whatever
 * follows is ignored (Kafka's rule: new versions only append fields). Fields a version adds may
 * also be missing as a whole at the end of the bytes (KafkaJS writes a v1 header over a v0
 * body): they take their defaults. A field cut short is a ClassicProtocolError.
 */
export function decodeSubscription(bytes: Buffer): ConsumerProtocolSubscription {
  const reader = new CheckedReader('ConsumerProtocolSubscription', bytes)
  const version = readVersion(reader)
  const subscription: ConsumerProtocolSubscription = {
    version,
    topics: reader.array('topics', 2, () => reader.string('topics')),
    userData: reader.nullableBytes('user_data'),
    ownedPartitions: [],
    generationId: -1,
    rackId: null,
  }
  if (version >= 1 && reader.remaining > 0)
    subscription.ownedPartitions = readTopicPartitions(reader, 'owned_partitions')
  if (version >= 2 && reader.remaining > 0) subscription.generationId = reader.int32('generation_id')
  if (version >= 3 && reader.remaining > 0) subscription.rackId = reader.nullableString('rack_id')
  return subscription
}

/**
 * Decodes a member's assignment (newer versions as v3, trailing bytes ignored). Empty bytes are
 * an empty assignment: the coordinator sends them to a member the leader left out of SyncGroup.
 */
export function decodeAssignment(bytes: Buffer): ConsumerProtocolAssignment {
  if (bytes.length === 0) return { version: 0, assignedPartitions: [], userData: null }
  const reader = new CheckedReader('ConsumerProtocolAssignment', bytes)
  const version = readVersion(reader)
  const assignedPartitions = readTopicPartitions(reader, 'assigned_partitions')
  // Like the subscription's trailing fields: absent as a whole reads as null.
  const userData = reader.remaining > 0 ? reader.nullableBytes('user_data') : null
  return { version, assignedPartitions, userData }
}
