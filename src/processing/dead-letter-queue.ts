import { Producer } from '@platformatic/kafka'
import type { ConsumerRecord } from '../engine/types.ts'
import { MultilaneError } from '../errors.ts'
import type { KafkaConnectionOptions } from '../kafka/connection-options.ts'
import { resolveConnection } from '../kafka/connection-options.ts'

/** Headers multilane adds to a dead-lettered record (the original headers are kept before them). */
export const DLQ_HEADERS = {
  topic: 'source_topic',
  partition: 'source_partition',
  offset: 'source_offset',
  consumerGroup: 'source_consumer_group',
  attempts: 'source_attempts',
  errorName: 'source_error_name',
  errorMessage: 'source_error_message',
} as const

/** Error messages are cut so a huge message cannot push the record over the broker's size limit. */
const MAX_ERROR_MESSAGE_CHARS = 2000

/** Where exhausted records go: a produce that resolves once the broker has them. */
export interface DeadLetterSink {
  dispatch(
    deadLetterTopic: string,
    records: readonly ConsumerRecord[],
    consumerGroup: string,
    attempts: number,
    error: Error,
  ): Promise<void>
}

/**
 * Produces failed records to dead letter topics: original key, value and headers, plus the
 * `source_*` headers. One idempotent producer (acks=all) per app, created on first use.
 *
 * Every dispatch has a deadline (the connection's `requestTimeoutMs`, 30 s by default): an
 * idempotent produce to a topic that does not exist never settles in `@platformatic/kafka`
 * 2.12, so without one the record would stall silently. A dispatch that misses it rejects
 * (the caller reports and retries it) and the producer is replaced.
 */
export class DeadLetterQueueProducer implements DeadLetterSink {
  readonly #connection: KafkaConnectionOptions
  readonly #timeoutMs: number
  #producer: Producer | undefined

  constructor(connection: KafkaConnectionOptions) {
    this.#connection = connection
    this.#timeoutMs = connection.requestTimeoutMs ?? 30_000
  }

  /** Resolves once the broker has the records (all replicas in sync); rejects on failure or after the deadline. */
  async dispatch(
    deadLetterTopic: string,
    records: readonly ConsumerRecord[],
    consumerGroup: string,
    attempts: number,
    error: Error,
  ): Promise<void> {
    const producer = this.#ensureProducer()
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        this.#send(producer, deadLetterTopic, records, consumerGroup, attempts, error),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new MultilaneError(
                  'DEAD_LETTER_TIMEOUT',
                  `producing to dead letter topic "${deadLetterTopic}" did not finish within ${this.#timeoutMs} ms (does the topic exist?)`,
                ),
              ),
            this.#timeoutMs,
          )
        }),
      ])
    } catch (failure) {
      // A hung produce may never settle: start over with a new producer next time.
      if (this.#producer === producer) {
        this.#producer = undefined
        producer.close().catch(() => {})
      }
      throw failure
    } finally {
      clearTimeout(timer)
    }
  }

  async #send(
    producer: Producer,
    deadLetterTopic: string,
    records: readonly ConsumerRecord[],
    consumerGroup: string,
    attempts: number,
    error: Error,
  ): Promise<void> {
    const message = (error.message ?? String(error)).slice(0, MAX_ERROR_MESSAGE_CHARS)
    await producer.send({
      acks: -1,
      messages: records.map((r) => {
        const headers = new Map<Buffer, Buffer>()
        for (const [k, v] of r.headers) if (k) headers.set(k, v ?? Buffer.alloc(0))
        const extra: Record<string, string> = {
          [DLQ_HEADERS.topic]: r.topic,
          [DLQ_HEADERS.partition]: String(r.partition),
          [DLQ_HEADERS.offset]: String(r.offset),
          [DLQ_HEADERS.consumerGroup]: consumerGroup,
          [DLQ_HEADERS.attempts]: String(attempts),
          [DLQ_HEADERS.errorName]: error.name ?? 'Error',
          [DLQ_HEADERS.errorMessage]: message,
        }
        for (const [k, v] of Object.entries(extra)) headers.set(Buffer.from(k), Buffer.from(v))
        return {
          topic: deadLetterTopic,
          key: r.key ?? undefined,
          value: r.value ?? undefined,
          headers,
          timestamp: BigInt(r.timestamp),
        }
      }),
    })
  }

  async close(): Promise<void> {
    await this.#producer?.close()
    this.#producer = undefined
  }

  #ensureProducer(): Producer {
    if (!this.#producer) {
      const resolved = resolveConnection(this.#connection)
      this.#producer = new Producer({
        ...resolved.options,
        clientId: `${resolved.clientId}-dlq`,
        bootstrapBrokers: resolved.brokers,
        idempotent: true,
      })
    }
    return this.#producer
  }
}
