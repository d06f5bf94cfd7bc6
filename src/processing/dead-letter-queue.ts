import type { ConsumerRecord } from '../engine/types.ts'
import { MultilaneError } from '../errors.ts'
import type { KafkaConnectionOptions } from '../kafka/connection-options.ts'
import type { HeaderInjector } from '../producing/app-producer.ts'
import { ProducerError } from '../producing/errors.ts'
import {
  failureReason,
  ProducerClient,
  requestChunks,
  type WireMessage,
} from '../producing/producer-client.ts'

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
 * `source_*` headers, through the app's one idempotent producer (acks=all; shared with
 * `app.producer`, see ProducerClient), created on first use.
 *
 * Every dispatch has a deadline (the connection's `requestTimeoutMs`, 30 s by default): an
 * idempotent produce to a topic that does not exist never settles in `@platformatic/kafka`
 * 2.12, so without one the record would stall silently. A dispatch that misses it rejects
 * (the caller reports and retries it) and the producer is replaced.
 */
export class DeadLetterQueueProducer implements DeadLetterSink {
  readonly #client: ProducerClient
  readonly #injector: () => HeaderInjector | undefined

  /**
   * `client`: the app's shared producer (default: one of its own, for use without an app);
   * `injector`: adds trace context headers when tracing is on.
   */
  constructor(
    connection: KafkaConnectionOptions,
    client?: ProducerClient,
    injector?: () => HeaderInjector | undefined,
  ) {
    this.#client = client ?? new ProducerClient(connection, 'dlq')
    this.#injector = injector ?? (() => undefined)
  }

  /** Resolves once the broker has the records (all replicas in sync); rejects on failure or after the deadline. */
  async dispatch(
    deadLetterTopic: string,
    records: readonly ConsumerRecord[],
    consumerGroup: string,
    attempts: number,
    error: Error,
  ): Promise<void> {
    const timeoutMs = this.#client.timeoutMs
    // In requests of a bounded size: a batch unit's records with the source_* headers and error
    // message can be over the broker's max.message.bytes as one batch (refused however often retried).
    for (const chunk of requestChunks(
      this.#messages(deadLetterTopic, records, consumerGroup, attempts, error),
    )) {
      try {
        await this.#client.send(
          chunk,
          () =>
            new MultilaneError(
              'DEAD_LETTER_TIMEOUT',
              `producing to dead letter topic "${deadLetterTopic}" did not finish within ${timeoutMs} ms (does the topic exist?)`,
            ),
        )
      } catch (error) {
        throw refusal(error, deadLetterTopic, chunk)
      }
    }
  }

  #messages(
    deadLetterTopic: string,
    records: readonly ConsumerRecord[],
    consumerGroup: string,
    attempts: number,
    error: Error,
  ): WireMessage[] {
    const message = (error.message ?? String(error)).slice(0, MAX_ERROR_MESSAGE_CHARS)
    const inject = this.#injector()
    return records.map((r) => {
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
      // The dead-lettered record continues the trace of the dispatch (its original traceparent is replaced).
      if (inject) inject((k, v) => replaceHeader(headers, k, v))
      return {
        topic: deadLetterTopic,
        key: r.key ?? undefined,
        value: r.value ?? undefined,
        headers,
        timestamp: BigInt(r.timestamp),
      }
    })
  }

  async close(): Promise<void> {
    await this.#client.close()
  }
}

function replaceHeader(headers: Map<Buffer, Buffer>, name: string, value: string): void {
  for (const k of headers.keys()) if (k.toString() === name) headers.delete(k)
  headers.set(Buffer.from(name), Buffer.from(value))
}

/**
 * A failed dead letter produce, saying what the broker said. The client's own error reads only
 * "Producing messages failed." (the reason is in nested errors): reported as it is, a dead letter
 * topic refusing a record (MESSAGE_TOO_LARGE, …) gave the operator nothing to act on.
 */
function refusal(error: unknown, deadLetterTopic: string, chunk: readonly WireMessage[]): Error {
  if (error instanceof MultilaneError) return error
  const reason = failureReason(error)
  const hint = reason.includes('MESSAGE_TOO_LARGE')
    ? `; a record is over the dead letter topic's max.message.bytes (largest value ${largestValue(chunk)} bytes): raise it, the record is held until then`
    : ''
  return new ProducerError(
    'PRODUCE_FAILED',
    `producing ${chunk.length} record${chunk.length === 1 ? '' : 's'} to dead letter topic "${deadLetterTopic}" failed: ${reason}${hint}`,
    { cause: error },
  )
}

function largestValue(chunk: readonly WireMessage[]): number {
  return chunk.reduce((max, m) => Math.max(max, m.value?.length ?? 0), 0)
}
