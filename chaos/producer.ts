// The harness's producer: keyed JSON records {key, seq, id} at a steady rate, a sequence number
// per key, acks=all on an idempotent producer. Sends are sequential (one batch at a time, retried
// until it is acknowledged), so each key's records reach the log in sequence order; a batch sent
// again after a failed attempt may be written twice (the checker counts such payloads, and their
// records must be handled like any other). Records are fed in by time: a stall (a broker down)
// makes the next batch larger, the rate over the run stays the same.
import { setTimeout as sleep } from 'node:timers/promises'
import { Producer } from '@platformatic/kafka'

export interface SteadyProducerOptions {
  bootstrap: string[]
  topic: string
  /** Records per second. */
  rate: number
  /** Distinct keys, used round robin. */
  keys: number
  log: (message: string) => void
}

export class SteadyProducer {
  readonly #options: SteadyProducerOptions
  #producer: Producer<Buffer, Buffer, Buffer, Buffer>
  readonly #seq = new Map<string, number>()
  /** Ids acknowledged by the cluster (acks=all). */
  readonly acknowledged: string[] = []
  #created = 0
  #failedSends = 0
  #stopping = false
  #deadline = Number.POSITIVE_INFINITY
  #loop: Promise<void> | undefined

  constructor(options: SteadyProducerOptions) {
    this.#options = options
    this.#producer = this.#newProducer()
  }

  #newProducer(): Producer<Buffer, Buffer, Buffer, Buffer> {
    return new Producer({
      clientId: 'chaos-producer',
      bootstrapBrokers: this.#options.bootstrap,
      idempotent: true,
      acks: -1,
      retries: 10,
      retryDelay: 500,
      timeout: 10_000,
    })
  }

  get created(): number {
    return this.#created
  }

  get failedSends(): number {
    return this.#failedSends
  }

  start(): void {
    this.#loop = this.#run()
  }

  /** Stops feeding records and waits until everything created was acknowledged (or `timeoutMs` passed). */
  async stop(timeoutMs = 120_000): Promise<void> {
    this.#stopping = true
    this.#deadline = Date.now() + timeoutMs
    await this.#loop
    await this.#producer.close().catch(() => {})
  }

  #next(): { key: string; id: string; value: string } {
    const key = `k${this.#created % this.#options.keys}`
    const seq = this.#seq.get(key) ?? 0
    this.#seq.set(key, seq + 1)
    this.#created++
    const id = `${key}-${seq}`
    return { key, id, value: JSON.stringify({ key, seq, id }) }
  }

  async #run(): Promise<void> {
    const started = performance.now()
    let pending: Array<{ key: string; id: string; value: string }> = []
    let failures = 0
    while (!(this.#stopping && pending.length === 0)) {
      if (!this.#stopping) {
        const due = Math.floor(((performance.now() - started) / 1000) * this.#options.rate)
        while (this.#created < due) pending.push(this.#next())
      }
      if (pending.length === 0) {
        await sleep(50)
        continue
      }
      if (Date.now() > this.#deadline) {
        this.#options.log(`producer: ${pending.length} records not acknowledged before the stop deadline`)
        return
      }
      try {
        await this.#producer.send({
          acks: -1,
          messages: pending.map((r) => ({
            topic: this.#options.topic,
            key: Buffer.from(r.key),
            value: Buffer.from(r.value),
          })),
        })
        for (const r of pending) this.acknowledged.push(r.id)
        pending = []
        failures = 0
      } catch (error) {
        this.#failedSends++
        failures++
        this.#options.log(
          `producer: a send of ${pending.length} records failed (${(error as Error).message}); sending it again`,
        )
        // A producer whose sequence numbers the cluster no longer accepts never recovers: a new
        // one (a new producer id) after a few failures in a row.
        if (failures % 3 === 0) {
          await this.#producer.close().catch(() => {})
          this.#producer = this.#newProducer()
        }
        await sleep(500)
      }
      await sleep(50)
    }
  }
}
