// Helpers for share-group integration tests against the real broker.
import { after } from 'node:test'
import { configureShareGroup, describeShareGroup, type ShareGroupConfigs } from '../../src/admin/share.ts'
import { type App, createApp } from '../../src/app/app.ts'
import { ShareConsumer, type ShareConsumerOptions } from '../../src/engine/share/share-consumer.ts'
import type { ShareAcknowledgedEvent, ShareFetchEvent } from '../../src/engine/share/share-consumer-types.ts'
import type { AcknowledgeType, AckResult, ShareRecord } from '../../src/engine/share/types.ts'
import { bootstrapServers, uniqueName, waitUntil } from './kafka.ts'

/** Members still open; a failing test must not leave them running (and its file hanging). */
const open = new Set<ShareConsumer>()
after(async () => {
  await Promise.allSettled([...open].map((c) => c.close()))
})

export function kafkaOptions(clientId = 'multilane-share-test'): { bootstrap: string[]; clientId: string } {
  return { bootstrap: bootstrapServers(), clientId }
}

/**
 * A share group that reads its topics from the start (`share.auto.offset.reset=earliest`, set
 * through multilane's own admin function) and reassigns quickly.
 */
export async function shareGroup(prefix: string, settings: ShareGroupConfigs = {}): Promise<string> {
  const groupId = uniqueName(prefix)
  await configureShareGroup(kafkaOptions(), groupId, {
    autoOffsetReset: 'earliest',
    assignmentIntervalMs: 100,
    ...settings,
  })
  return groupId
}

/** What a member saw: every fetch and acknowledgement answer, in order. */
export interface MemberLog {
  fetches: ShareFetchEvent[]
  acknowledgements: ShareAcknowledgedEvent[]
  warnings: Error[]
  lockLost: Array<{ offsets: number[]; reason: string }>
}

export function createShareMember(
  options: Partial<ShareConsumerOptions> & { groupId: string; topics: string[] },
): { consumer: ShareConsumer; log: MemberLog } {
  const consumer = new ShareConsumer({ ...kafkaOptions(), maxWaitMs: 200, ...options })
  const log: MemberLog = { fetches: [], acknowledgements: [], warnings: [], lockLost: [] }
  consumer.on('fetched', (e) => log.fetches.push(e))
  consumer.on('acknowledged', (e) => log.acknowledgements.push(e))
  consumer.on('warning', (e) => log.warnings.push(e.error))
  consumer.on('lock_lost', (e) => log.lockLost.push({ offsets: e.offsets, reason: e.reason }))
  open.add(consumer)
  const close = consumer.close.bind(consumer)
  consumer.close = async () => {
    await close()
    open.delete(consumer)
  }
  return { consumer, log }
}

/**
 * Waits until every member has some of `topic`'s partitions and together they have all
 * `partitions` (with fewer partitions than members, the assignor gives each member all of them).
 */
export async function waitForAssignment(
  consumers: readonly ShareConsumer[],
  topic: string,
  partitions: number,
): Promise<void> {
  const of = (c: ShareConsumer) => c.assignment().filter((tp) => tp.topic === topic)
  await waitUntil(
    () =>
      consumers.every((c) => of(c).length > 0) &&
      new Set(consumers.flatMap((c) => of(c).map((tp) => tp.partition))).size === partitions,
    {
      timeoutMs: 30_000,
      message: `${consumers.length} member(s) assigned the ${partitions} partition(s) of ${topic}`,
    },
  )
}

/** The acknowledgement for a record; null when the decision acknowledged it itself. */
export type Decide = (record: ShareRecord) => AcknowledgeType | null | Promise<AcknowledgeType | null>

/**
 * A processing loop on the engine: takes records, decides an acknowledgement per record
 * (concurrently, so a slow record never holds up the others), and records every delivery and
 * every acknowledgement result.
 */
export class ShareWorker {
  readonly consumer: ShareConsumer
  readonly deliveries: ShareRecord[] = []
  readonly results: AckResult[] = []
  readonly #decide: Decide
  #running = true
  readonly #loop: Promise<void>
  readonly #inFlight = new Set<Promise<void>>()

  constructor(consumer: ShareConsumer, decide: Decide = () => 'accept') {
    this.consumer = consumer
    this.#decide = decide
    this.#loop = this.#run()
  }

  async #run(): Promise<void> {
    while (this.#running && this.consumer.running) {
      await this.consumer.waitForRecords(200)
      for (const batch of this.consumer.takeRecords(500)) {
        for (const record of batch.records) {
          this.deliveries.push(record)
          const work = (async () => {
            const type = await this.#decide(record)
            if (type) this.results.push(await this.consumer.acknowledge(record, type))
          })()
          this.#inFlight.add(work)
          void work.finally(() => this.#inFlight.delete(work))
        }
      }
    }
  }

  /** Offsets (of `partition`) whose acknowledgement of `type` the broker applied. */
  applied(type: AcknowledgeType, partition = 0): number[] {
    return this.results
      .filter((r) => r.type === type && r.outcome === 'ok' && r.partition === partition)
      .map((r) => r.offset)
  }

  /** Stops taking records, lets running decisions finish, then closes the consumer. */
  async stop(): Promise<void> {
    this.#running = false
    this.consumer.interruptWait()
    await this.#loop
    await Promise.allSettled([...this.#inFlight])
    await this.consumer.close()
  }
}

/** An app for share-group tests: no logger, no statistics, the given shutdown deadline. */
export function shareTestApp(clientId: string, shutdownTimeoutMs = 5000): App {
  return createApp({
    kafka: { bootstrap: bootstrapServers(), clientId },
    logger: false,
    shutdownTimeoutMs,
    statisticsIntervalMs: 0,
  })
}

/** Waits until the broker counts no record of the group's only partition as unacknowledged. */
export async function lagZero(groupId: string, timeoutMs = 30_000): Promise<void> {
  await waitUntil(
    async () => {
      const d = await describeShareGroup(kafkaOptions(), groupId)
      return d.partitions.length === 1 && d.partitions[0]!.lag === 0
    },
    { timeoutMs, message: 'share-partition lag 0 (every record acknowledged)' },
  )
}
