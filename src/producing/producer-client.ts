/**
 * The one Kafka producer of an app: idempotent, acks=all, created on first use, shared by
 * `app.producer` and the dead letter queue, closed with the app.
 *
 * Two guards around `@platformatic/kafka` 2.12's Producer, whose produce (and metadata request)
 * to a topic that does not exist never settles: topics are checked on multilane's own metadata
 * connection before their first send (a missing one fails at once, naming it), and every send
 * has a deadline (the connection's `requestTimeoutMs`); a send that misses it rejects and the
 * producer is replaced, since a hung one may never settle.
 */
import { type MessageToProduce, type ProduceResult, Producer } from '@platformatic/kafka'
import { AuthorizationError, findAuthorizationError, principalOf } from '../kafka/authorization.ts'
import { KafkaCluster } from '../kafka/cluster.ts'
import { type KafkaConnectionOptions, resolveConnection } from '../kafka/connection-options.ts'
import { ProducerError } from './errors.ts'

/** A record as the wire takes it: every part already bytes. */
export type WireMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>

export class ProducerClient {
  readonly #connection: KafkaConnectionOptions
  readonly #timeoutMs: number
  readonly #clientIdSuffix: string
  #producer: Producer | undefined
  /** Sends in flight per producer: a replaced one is closed once its own have ended. */
  readonly #sending = new Map<Producer, number>()
  /** Replaced producers not closed yet (their sends still in flight). */
  readonly #retired = new Set<Producer>()
  #cluster: KafkaCluster | undefined
  /**
   * Topics seen in the metadata, with their partition count: not looked up again (a deleted one
   * ends in the deadline) unless a record names a partition beyond the count (it may have grown).
   */
  readonly #knownTopics = new Map<string, number>()
  /** Set by close(): new operations are refused; those in flight finish first. */
  #closing = false
  #closed = false
  /** Operations ({@link run}) in flight: close() lets them finish (each send has its deadline). */
  readonly #inflight = new Set<Promise<unknown>>()

  constructor(connection: KafkaConnectionOptions, clientIdSuffix = 'producer') {
    this.#connection = connection
    this.#timeoutMs = connection.requestTimeoutMs ?? 30_000
    this.#clientIdSuffix = clientIdSuffix
  }

  get closed(): boolean {
    return this.#closing
  }

  /**
   * Runs one produce operation (topic lookup and send): refused with PRODUCER_CLOSED once close()
   * was called, else close() waits for it — a send issued before the app stopped is not cut short
   * (its caller would be told it failed while the broker may have it).
   */
  async run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closing) throw closedError()
    const running = operation()
    this.#inflight.add(running)
    try {
      return await running
    } finally {
      this.#inflight.delete(running)
    }
  }

  /** The deadline of one send, in milliseconds. */
  get timeoutMs(): number {
    return this.#timeoutMs
  }

  /**
   * Sends `messages` (acks=all); resolves once the broker has them. `onTimeout` builds the
   * error of a send that misses the deadline (the DLQ reports its own code).
   */
  async send(messages: WireMessage[], onTimeout?: () => Error): Promise<ProduceResult> {
    if (this.#closed) throw closedError()
    const producer = this.#ensureProducer()
    this.#sending.set(producer, (this.#sending.get(producer) ?? 0) + 1)
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        producer.send({ acks: -1, messages }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                onTimeout?.() ??
                  new ProducerError(
                    'PRODUCE_TIMEOUT',
                    `producing to ${topicList(messages)} did not finish within ${this.#timeoutMs} ms (kafka.requestTimeoutMs)`,
                  ),
              ),
            this.#timeoutMs,
          )
        }),
      ])
    } catch (failure) {
      // The topics may be gone (deleted): look them up again before the next send, which
      // then fails at once instead of hanging in the new producer's metadata request.
      for (const m of messages) this.#knownTopics.delete(m.topic)
      // A hung produce may never settle: start over with a new producer next time. The old one
      // closes once the other sends on it ended: closing it under them failed records the
      // broker had (a dead letter too large for its topic made another record's dispatch fail
      // with "Connection closed" and be written again, and would fail app.producer's sends).
      if (this.#producer === producer) {
        this.#producer = undefined
        this.#retired.add(producer)
      }
      if (this.#closed) throw closedError()
      const refused = findAuthorizationError(failure)
      if (refused !== undefined) {
        // An ACL is missing (the topic's WRITE, which also allows the idempotent producer's
        // InitProducerId): say so, not the client's "Received response with error…".
        const topics = `topic${new Set(messages.map((m) => m.topic)).size === 1 ? '' : 's'} ${topicList(messages)}`
        throw new AuthorizationError(
          {
            kafkaError: refused,
            action: `produce to ${topics}`,
            needs: `WRITE on ${topics} (it also allows the idempotent producer's InitProducerId)`,
            principal: principalOf(this.#connection),
          },
          { cause: failure },
        )
      }
      throw failure
    } finally {
      clearTimeout(timer)
      this.#sendEnded(producer)
    }
  }

  #sendEnded(producer: Producer): void {
    const left = (this.#sending.get(producer) ?? 1) - 1
    if (left > 0) {
      this.#sending.set(producer, left)
      return
    }
    this.#sending.delete(producer)
    if (this.#retired.delete(producer)) producer.close().catch(() => {})
  }

  /**
   * Throws PRODUCE_TOPIC_NOT_FOUND naming every topic of `messages` that does not exist, and
   * INVALID_PRODUCE_RECORD for a message whose fixed partition the topic does not have (the
   * client would otherwise send it to another partition). `where(i)` names message `i`.
   */
  async requireTopics(messages: readonly WireMessage[], where: (index: number) => string): Promise<void> {
    const unknown = new Set<string>()
    for (const m of messages) {
      const count = this.#knownTopics.get(m.topic)
      if (count === undefined || (m.partition !== undefined && m.partition >= count)) unknown.add(m.topic)
    }
    if (unknown.size > 0) await this.#lookUp([...unknown])
    for (let i = 0; i < messages.length; i++) {
      const { topic, partition } = messages[i]!
      const count = this.#knownTopics.get(topic)!
      if (partition !== undefined && partition >= count) {
        throw new ProducerError(
          'INVALID_PRODUCE_RECORD',
          `${where(i)}: partition ${partition} does not exist: topic "${topic}" has ${count} partition${count === 1 ? '' : 's'} (0–${count - 1}); nothing was sent`,
        )
      }
    }
  }

  async #lookUp(topics: string[]): Promise<void> {
    if (this.#closed) throw closedError()
    this.#cluster ??= new KafkaCluster(resolveConnection(this.#connection))
    let metadata: Awaited<ReturnType<KafkaCluster['refreshMetadata']>>
    try {
      metadata = await this.#cluster.refreshMetadata(topics)
    } catch (error) {
      // Closed under the lookup: the connection error is the close's, not the broker's.
      if (this.#closed) throw closedError()
      throw new ProducerError(
        'PRODUCE_FAILED',
        `looking up topic${topics.length === 1 ? '' : 's'} ${topics.map((t) => `"${t}"`).join(', ')} ` +
          `on ${bootstrapText(this.#connection)} failed (nothing was sent): ${failureReason(error)}`,
        { cause: error },
      )
    }
    const missing: string[] = []
    for (const t of topics) {
      const found = metadata.get(t)
      if (found) this.#knownTopics.set(t, found.partitions.length)
      else missing.push(t)
    }
    if (missing.length > 0) {
      throw new ProducerError(
        'PRODUCE_TOPIC_NOT_FOUND',
        `topic${missing.length === 1 ? '' : 's'} ${missing.map((t) => `"${t}"`).join(', ')} ` +
          `do${missing.length === 1 ? 'es' : ''} not exist on ${bootstrapText(this.#connection)}: ` +
          'create it first (`multilane topics create <name> --partitions N`); nothing was sent',
      )
    }
  }

  /**
   * Closes the producer and the metadata connection once the operations in flight finished;
   * later ones throw PRODUCER_CLOSED.
   */
  async close(): Promise<void> {
    this.#closing = true
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight])
    this.#closed = true
    const producer = this.#producer
    const cluster = this.#cluster
    this.#producer = undefined
    this.#cluster = undefined
    const retired = [...this.#retired]
    this.#retired.clear()
    await Promise.all([producer?.close(), cluster?.close(), ...retired.map((p) => p.close().catch(() => {}))])
  }

  #ensureProducer(): Producer {
    if (!this.#producer) {
      const resolved = resolveConnection(this.#connection)
      this.#producer = new Producer({
        ...resolved.options,
        clientId: `${resolved.clientId}-${this.#clientIdSuffix}`,
        bootstrapBrokers: resolved.brokers,
        idempotent: true,
      })
    }
    return this.#producer
  }
}

/**
 * Bytes per produce request, estimated (key, value, headers and a record's overhead). The client
 * puts a request's records of one partition in one record batch, and the broker refuses a batch
 * over the topic's `max.message.bytes` (1 MiB by default) with MESSAGE_TOO_LARGE even when every
 * record is small: 300 records of 10 KB failed as one. Half the default leaves room for overhead.
 */
const REQUEST_BYTES = 512 * 1024

/** `messages` in order, in chunks of at most REQUEST_BYTES (a bigger record goes alone). */
export function requestChunks(messages: WireMessage[]): WireMessage[][] {
  const chunks: WireMessage[][] = []
  let chunk: WireMessage[] = []
  let bytes = 0
  for (const m of messages) {
    let size = 70 + (m.key?.length ?? 0) + (m.value?.length ?? 0)
    // multilane's producers always build a Map.
    for (const [k, v] of (m.headers as Map<Buffer, Buffer> | undefined) ?? []) size += k.length + v.length + 2
    if (chunk.length > 0 && bytes + size > REQUEST_BYTES) {
      chunks.push(chunk)
      chunk = []
      bytes = 0
    }
    chunk.push(m)
    bytes += size
  }
  if (chunk.length > 0) chunks.push(chunk)
  return chunks
}

function closedError(): ProducerError {
  return new ProducerError(
    'PRODUCER_CLOSED',
    'the producer is closed (it closes with the app): sends issued before app.stop() finish, later ones are refused',
  )
}

/**
 * The broker's reason for a failed request: the client wraps per-partition errors in nested
 * AggregateErrors whose top message says only "Producing messages failed."; the leaves carry the
 * Kafka error name (`MESSAGE_TOO_LARGE`) and its text.
 */
export function failureReason(error: unknown): string {
  const reasons = new Set<string>()
  const visit = (e: unknown, depth: number): void => {
    if (depth > 8 || typeof e !== 'object' || e === null) return
    const nested = (e as { errors?: unknown }).errors
    if (Array.isArray(nested) && nested.length > 0) {
      for (const n of nested) visit(n, depth + 1)
      return
    }
    const { apiId, message } = e as { apiId?: unknown; message?: unknown }
    reasons.add(typeof apiId === 'string' ? `${apiId} (${String(message)})` : String(message))
  }
  visit(error, 0)
  return reasons.size > 0 ? [...reasons].join('; ') : String(error)
}

export function topicList(messages: readonly WireMessage[]): string {
  return [...new Set(messages.map((m) => `"${m.topic}"`))].join(', ')
}

function bootstrapText(connection: KafkaConnectionOptions): string {
  return typeof connection.bootstrap === 'string' ? connection.bootstrap : connection.bootstrap.join(',')
}
