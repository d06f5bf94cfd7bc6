// A minimal processing loop on the engine for integration tests: takes records, "processes"
// them synchronously (records them), commits every `commitIntervalMs`, and commits revoked
// partitions in the revoke hook, so a rebalance loses and repeats nothing.
import { after } from 'node:test'
import { GroupConsumer, type GroupConsumerOptions } from '../../src/engine/group-consumer.ts'
import type { ConsumerRecord, OffsetToCommit } from '../../src/engine/types.ts'
import { partitionKey } from '../../src/engine/types.ts'
import { bootstrapServers } from './kafka.ts'

/** Members still running; a test that failed before stopping its members must not hang its file. */
const running = new Set<TestMember>()
after(async () => {
  await Promise.allSettled([...running].map((m) => m.stop()))
})

export interface TestMemberOptions extends Partial<GroupConsumerOptions> {
  groupId: string
  topics: string[]
  commitIntervalMs?: number
  onRecord?: (record: ConsumerRecord) => void
}

export class TestMember {
  readonly consumer: GroupConsumer
  readonly processed: ConsumerRecord[] = []
  readonly #next = new Map<string, OffsetToCommit>()
  readonly #commitIntervalMs: number
  readonly #onRecord: ((record: ConsumerRecord) => void) | undefined
  #running = false
  #loop: Promise<void> | undefined

  constructor(options: TestMemberOptions) {
    this.#commitIntervalMs = options.commitIntervalMs ?? 200
    this.#onRecord = options.onRecord
    this.consumer = new GroupConsumer({
      bootstrap: bootstrapServers(),
      clientId: 'multilane-test-member',
      ...options,
      hooks: {
        onRevoked: async (partitions) => {
          const offsets = partitions.flatMap((p) => {
            const o = this.#next.get(partitionKey(p.topic, p.partition))
            return o ? [o] : []
          })
          for (const p of partitions) this.#next.delete(partitionKey(p.topic, p.partition))
          await this.consumer.commit(offsets).catch(() => {})
        },
      },
    })
  }

  async start(): Promise<void> {
    running.add(this)
    await this.consumer.start()
    this.#running = true
    this.#loop = this.#run()
  }

  async #run(): Promise<void> {
    let lastCommit = Date.now()
    while (this.#running) {
      const batches = this.consumer.takeRecords(2000)
      for (const batch of batches) {
        for (const record of batch.records) {
          this.processed.push(record)
          this.#onRecord?.(record)
        }
        const last = batch.records.at(-1)
        if (last) {
          this.#next.set(partitionKey(batch.topic, batch.partition), {
            topic: batch.topic,
            partition: batch.partition,
            offset: last.offset + 1,
          })
        }
      }
      if (Date.now() - lastCommit >= this.#commitIntervalMs) {
        lastCommit = Date.now()
        await this.commitNow().catch(() => {})
      }
      if (batches.length === 0) await this.consumer.waitForRecords(this.#commitIntervalMs)
    }
  }

  commitNow(): Promise<void> {
    return this.consumer.commit([...this.#next.values()])
  }

  assignedCount(): number {
    return this.consumer.assignment().length
  }

  /** Stops the loop and closes the consumer (the revoke hook commits everything processed). */
  async stop(): Promise<void> {
    running.delete(this)
    this.#running = false
    this.consumer.interruptWait()
    await this.#loop
    await this.consumer.close()
  }
}

/** Offsets seen per partition, and how many records were seen more than once. */
export function deliverySummary(records: readonly ConsumerRecord[]): {
  distinct: number
  duplicates: number
  byPartition: Map<number, number[]>
} {
  const byPartition = new Map<number, number[]>()
  const seen = new Set<string>()
  let duplicates = 0
  for (const r of records) {
    const key = `${r.partition}:${r.offset}`
    if (seen.has(key)) duplicates++
    seen.add(key)
    const list = byPartition.get(r.partition) ?? []
    list.push(r.offset)
    byPartition.set(r.partition, list)
  }
  return { distinct: seen.size, duplicates, byPartition }
}

/** Takes records into `seen` until `done()` holds; throws naming `message` after `timeoutMs`. */
export async function drainUntil(
  consumer: GroupConsumer,
  seen: ConsumerRecord[],
  done: () => boolean,
  message: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${message}`)
    for (const b of consumer.takeRecords(1000)) seen.push(...b.records)
    await consumer.waitForRecords(100)
  }
}

/** Keeps taking records into `seen` for `ms` (to show that nothing more arrives). */
export async function drainFor(consumer: GroupConsumer, seen: ConsumerRecord[], ms: number): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    for (const b of consumer.takeRecords(1000)) seen.push(...b.records)
    await consumer.waitForRecords(50)
  }
}
