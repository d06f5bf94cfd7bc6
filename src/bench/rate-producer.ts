/**
 * Produces at a fixed rate, scheduled by absolute time: at each tick it sends every record due
 * since the start (floor(elapsed × rate)), so timer lateness never accumulates into rate error.
 * Each record carries its sequence number and publish time (epoch ms) in headers.
 */
import { Producer } from '@platformatic/kafka'
import { keySampler } from './distributions.ts'
import type { PointConfig } from './workload-schema.ts'

export const SEQ_HEADER = 'bench-seq'
export const PUBLISHED_HEADER = 'bench-ts'

export interface RateProducerOptions {
  bootstrap: string[]
  /** SASL and TLS settings as @platformatic/kafka takes them. */
  connection: { sasl?: { mechanism: string; username: string; password: string }; tls?: object }
  topic: string
  config: PointConfig
  /** Called when the broker acknowledged record `seq`, published (stamped) at `publishedAt`. */
  onProduced: (seq: number, publishedAt: number) => void
  onError: (error: Error) => void
}

const TICK_MS = 10
/** Sends (batches) awaiting their acknowledgement at once; more waits. */
const MAX_IN_FLIGHT = 32

type Headers = Map<Buffer, Buffer>
type Message = { topic: string; key: Buffer; value: Buffer; headers: Headers; partition?: number }

export class RateProducer {
  readonly #options: RateProducerOptions
  readonly #producer: Producer<Buffer, Buffer, Buffer, Buffer>
  #timer: NodeJS.Timeout | undefined
  #sent = 0
  #inFlight = 0
  #started = 0
  #batch: ((due: number, now: number) => { messages: Message[]; seqs: number[] }) | undefined
  readonly #pending = new Set<Promise<void>>()

  constructor(options: RateProducerOptions) {
    this.#options = options
    this.#producer = new Producer({
      clientId: 'multilane-bench-producer',
      bootstrapBrokers: options.bootstrap,
      ...(options.connection.sasl ? { sasl: options.connection.sasl } : {}),
      ...(options.connection.tls ? { tls: options.connection.tls } : {}),
      acks: -1,
      idempotent: true,
      // The records' order on the wire is the send order: latency is measured per record.
      maxInflights: MAX_IN_FLIGHT,
    } as ConstructorParameters<typeof Producer<Buffer, Buffer, Buffer, Buffer>>[0])
  }

  /** Records handed to the client so far. */
  get sent(): number {
    return this.#sent
  }

  /** Starts producing at `startAt` (epoch ms). */
  start(startAt: number): void {
    this.#started = startAt
    this.#batch = this.#batchBuilder()
    const tick = (): void => {
      if (this.#inFlight < MAX_IN_FLIGHT) this.#sendDue(Date.now())
      // The next tick on the absolute grid.
      const next = TICK_MS - ((Date.now() - this.#started) % TICK_MS)
      this.#timer = setTimeout(tick, next)
    }
    this.#timer = setTimeout(tick, Math.max(0, startAt - Date.now()))
  }

  /** Builds the records from `#sent` up to `due` (exclusive), stamped `now`. */
  #batchBuilder(): (due: number, now: number) => { messages: Message[]; seqs: number[] } {
    const { config, topic } = this.#options
    const key = keySampler(config.topic.keys.count, config.topic.keys.distribution)
    const value = Buffer.alloc(config.topic.recordSize, 0x61)
    const userHeader = config.topic.headers.includes('user_id')
    const roundRobin = config.topic.partitioner === 'roundRobin'
    const partitions = config.topic.partitions
    const other = config.topic.headers.filter((h) => h !== 'user_id').map((h) => Buffer.from(h))
    return (due, now) => {
      const messages: Message[] = []
      const seqs: number[] = []
      for (; this.#sent < due; this.#sent++) {
        seqs.push(this.#sent)
        const k = Buffer.from(`user-${key()}`)
        const headers: Headers = new Map([
          [Buffer.from(SEQ_HEADER), Buffer.from(String(this.#sent))],
          [Buffer.from(PUBLISHED_HEADER), Buffer.from(String(now))],
        ])
        if (userHeader) headers.set(Buffer.from('user_id'), k)
        for (const h of other) headers.set(h, Buffer.from('x'))
        messages.push(
          roundRobin
            ? { topic, key: k, value, headers, partition: this.#sent % partitions }
            : { topic, key: k, value, headers },
        )
      }
      return { messages, seqs }
    }
  }

  /** Sends every record due by `at` (the schedule's absolute time) not sent yet. */
  #sendDue(at: number): void {
    const due = Math.floor(((at - this.#started) / 1000) * this.#options.config.producer.rate)
    if (due <= this.#sent || !this.#batch) return
    const now = Date.now()
    const { messages, seqs } = this.#batch(due, now)
    this.#send(messages, seqs, now)
  }

  #send(messages: Message[], seqs: number[], publishedAt: number): void {
    this.#inFlight++
    const promise = this.#producer
      .send({ messages })
      .then(() => {
        for (const seq of seqs) this.#options.onProduced(seq, publishedAt)
      })
      .catch((error: unknown) => this.#options.onError(error as Error))
      .finally(() => {
        this.#inFlight--
        this.#pending.delete(promise)
      })
    this.#pending.add(promise)
  }

  /**
   * Stops producing and waits for every send to be acknowledged (or fail). With `until`
   * (epoch ms), first sends what the schedule had due by then: a tick the event loop delayed
   * past the window's end (or one skipped at the in-flight limit) does not shorten the run.
   */
  async stop(until?: number): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (until !== undefined) this.#sendDue(until)
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  async close(): Promise<void> {
    await this.stop()
    await this.#producer.close()
  }
}
