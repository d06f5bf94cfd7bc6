import type { Logger } from 'pino'
import { ShareConsumer } from '../../engine/share/share-consumer.ts'
import type { AcquireMode, ShareRecords } from '../../engine/share/types.ts'
import type { AssignedPartition, IntakeLimit, PartitionRecords, TopicPartition } from '../../engine/types.ts'
import { partitionKey } from '../../engine/types.ts'
import type { EventBus } from '../../instrumentation/events.ts'
import type { UnitInstrumentation } from '../../instrumentation/tracing.ts'
import type { KafkaConnectionOptions } from '../../kafka/connection-options.ts'
import type { DeadLetterSink } from '../dead-letter-queue.ts'
import { ProcessingRuntime } from '../processing-runtime.ts'
import type { RecordSource, SourceHooks, SourcePartitionStats } from '../record-source.ts'
import type { RuntimeGroup } from '../runtime-input.ts'
import { RetryOrReject } from './failure-policy.ts'
import { type ShareDeliveries, ShareProgress } from './progress.ts'

/** Share-group membership settings of one member. */
export interface ShareGroupMembership {
  acquireMode: AcquireMode
  /** Records per ShareFetch (`maxPollRecords` in blocking style). */
  maxRecords: number
  /** Locks held per partition; default: the group's `share.partition.max.record.locks`. */
  maxRecordLocks?: number
}

export interface ShareGroupRuntimeOptions {
  member: RuntimeGroup
  membership: ShareGroupMembership
  kafka: KafkaConnectionOptions
  events: EventBus
  logger: Logger
  deadLetters: DeadLetterSink
  /** Called once if the member fails for good. */
  onFatal?(error: Error): void
  /** Tracing of handler attempts. */
  instrument?: UnitInstrumentation
}

/** The fetch wait of share members: it also bounds how long an acknowledgement may wait. */
const SHARE_MAX_WAIT_MS = 500

/**
 * The share-group member as a record source: records of the partitions the runtime runs are
 * handed over (their deliveries remembered for the acknowledgements); assignment changes are
 * passed on; records of a partition the runtime does not run (it was just unassigned) are
 * released at once. There is no pause, resume or seek.
 */
/** @internal Exported for its unit tests. */
export class ShareRecordSource implements RecordSource {
  readonly #consumer: ShareConsumer
  readonly #hooks: SourceHooks
  readonly #deliveries: ShareDeliveries
  readonly #progress: ShareProgress
  /** Partitions handed to the runtime (assigned, not revoked). */
  readonly #known = new Set<string>()
  /** Revocations still draining (their records finish and are acknowledged here). */
  readonly #revoking = new Set<Promise<void>>()
  readonly #shutdownTimeoutMs: number
  /** Each topic's `processing.capacity`: handlers running at once. */
  readonly #capacities: ReadonlyMap<string, number>

  constructor(
    consumer: ShareConsumer,
    hooks: SourceHooks,
    progress: ShareProgress,
    shutdownTimeoutMs: number,
    capacities: ReadonlyMap<string, number>,
  ) {
    this.#capacities = capacities
    this.#consumer = consumer
    this.#hooks = hooks
    this.#progress = progress
    this.#shutdownTimeoutMs = shutdownTimeoutMs
    this.#deliveries = progress.deliveries
    consumer.on('assignment', (e) => void this.#assignment(e.added, e.removed))
    consumer.on('fatal', (error) => hooks.onFatal(error))
  }

  async #assignment(added: TopicPartition[], removed: TopicPartition[]): Promise<void> {
    // Added first, at once: their records may arrive while a removal drains.
    if (added.length > 0) {
      const assigned: AssignedPartition[] = added.map((p) => ({ ...p, position: 0, committed: null }))
      try {
        await this.#hooks.onAssigned(assigned)
      } catch (error) {
        this.#hooks.onFatal(error instanceof Error ? error : new Error(String(error)))
        return
      }
      for (const p of added) this.#known.add(partitionKey(p.topic, p.partition))
    }
    if (removed.length > 0) {
      for (const p of removed) this.#known.delete(partitionKey(p.topic, p.partition))
      // Nothing to hand back in a share group: records already taken finish (and are
      // acknowledged) here; those not started are released.
      const drain = this.#hooks.onRevoked(removed, 'revoked')
      this.#revoking.add(drain)
      try {
        await drain
      } finally {
        this.#revoking.delete(drain)
      }
    }
  }

  start(): Promise<void> {
    return this.#consumer.start()
  }

  takeRecords(max: number, limit: IntakeLimit): PartitionRecords[] {
    // Without lock renewal a record taken must start now: none may wait in a key's lane, behind
    // a retry or in a poll (nothing would keep its lock), so no topic takes more than its
    // capacity has free; the member's next fetch asks for no more than this take's `max`.
    const free = this.#consumer.renewsLocks() ? undefined : this.#freeCapacity()
    if (free)
      max = Math.min(
        max,
        [...free.values()].reduce((a, b) => a + b, 0),
      )
    if (max <= 0) return []
    const batches: ShareRecords[] = this.#consumer.takeRecords(max, (key, wanted) => {
      // Records of partitions the runtime does not run are taken, to be released below.
      if (!this.#known.has(key)) return wanted
      const n = limit(key, wanted)
      if (!free) return n
      const topic = key.slice(0, key.indexOf('\u0000'))
      const granted = Math.max(0, Math.min(n, free.get(topic) ?? 0))
      free.set(topic, (free.get(topic) ?? 0) - granted)
      return granted
    })
    const out: PartitionRecords[] = []
    for (const batch of batches) {
      const key = partitionKey(batch.topic, batch.partition)
      if (!this.#known.has(key)) {
        for (const r of batch.records) void this.#consumer.acknowledge(r, 'release')
        continue
      }
      // A record still in progress here came back (its lock was lost meanwhile): the unit
      // already under way settles the new delivery; it is not run twice in this member.
      const records = this.#progress.notAdopted(key, batch.records)
      if (records.length === 0) continue
      this.#deliveries.handed(records)
      out.push({
        topic: batch.topic,
        partition: batch.partition,
        records,
        nextOffset: records.at(-1)!.offset + 1,
      })
    }
    return out
  }

  /** Per topic, how many more records its handlers could start now (capacity − in progress). */
  #freeCapacity(): Map<string, number> {
    const free = new Map<string, number>()
    for (const [topic, capacity] of this.#capacities)
      free.set(topic, Math.max(0, capacity - this.#progress.inProgressOf(topic)))
    return free
  }

  async waitForRecords(timeoutMs: number): Promise<void> {
    // A closed member has nothing: wait out the timeout rather than return at once (no spin).
    // Without lock renewal, nothing is asked for while no record could start (a fetch now
    // would lock records to wait behind the running ones): capacity freeing ends the wait.
    const full =
      this.#consumer.running &&
      !this.#consumer.renewsLocks() &&
      [...this.#freeCapacity().values()].every((n) => n === 0)
    if (!this.#consumer.running || full) {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs))
      return
    }
    await this.#consumer.waitForRecords(timeoutMs)
  }

  interruptWait(): void {
    this.#consumer.interruptWait()
  }

  stats(): SourcePartitionStats[] {
    return this.#consumer
      .stats()
      .partitions.filter((p) => p.assigned)
      .map((p) => ({
        topic: p.topic,
        partition: p.partition,
        // The backlog is the group's, not this member's (DescribeShareGroupOffsets knows it).
        lag: -1,
        buffered: p.buffered,
        paused: false,
        locks: p.held,
      }))
  }

  async close(): Promise<void> {
    const deadline = Date.now() + this.#shutdownTimeoutMs
    const owned = [...this.#known].map((key) => {
      const [topic, partition] = key.split('\u0000') as [string, string]
      return { topic, partition: Number(partition) }
    })
    this.#known.clear()
    // Nothing more is taken here: what the member fetched ahead goes back now, and nothing new
    // is acquired while the running records finish.
    this.#consumer.stopFetching()
    // Drain: records not started are released, running ones finish and are acknowledged. A
    // partition revoked just before is still draining: its running records hold their locks
    // until they finish too (released now, another member would run them beside this one).
    const drains = [...this.#revoking]
    if (owned.length > 0) drains.push(this.#hooks.onRevoked(owned, 'closing'))
    // Bounded by the shutdown deadline: a revocation's flush can keep retrying acknowledgements
    // the broker does not answer (no leader), and stop() must still end.
    await untilDeadline(Promise.all(drains), deadline)
    // Records of partitions whose revocation drain ended earlier (its timeout) may still run;
    // not after a fatal error (the member is closing already: nothing of it is waited for).
    if (this.#consumer.running) await this.#progress.settled(deadline - Date.now())
    // Past the shutdown deadline: what still runs is released and reported before the member
    // closes (its close sends the releases; alone it would release them silently).
    this.#progress.releaseHeld()
    this.#progress.close()
    await this.#consumer.close()
  }
}

/**
 * A share group member's processing: the share consumer as the record source, each record's
 * outcome acknowledged on its own (continuous style acknowledges records of earlier fetches
 * while later ones are in flight), failures retried locally or released, and rejected after a
 * dead letter produce when exhausted.
 */
export function createShareGroupRuntime(options: ShareGroupRuntimeOptions): ProcessingRuntime {
  const { member, membership, events } = options
  const groupId = member.group.name
  let consumer: ShareConsumer | undefined
  const progress = new ShareProgress({
    groupId,
    events,
    maxWaitMs: SHARE_MAX_WAIT_MS,
    member: {
      acknowledge: (delivery, type, listener) => consumer!.acknowledgeTo(delivery, type, listener),
      flush: () => consumer!.flush(),
    },
  })
  return new ProcessingRuntime({
    member,
    events,
    logger: options.logger,
    onFatal: options.onFatal,
    instrument: options.instrument,
    progress,
    failurePolicy: () =>
      new RetryOrReject({
        group: member.group,
        events,
        deadLetters: options.deadLetters,
        deliveryCountLimit: () => consumer?.currentDeliveryCountLimit() ?? Promise.resolve(undefined),
      }),
    source: (hooks) => {
      consumer = new ShareConsumer({
        ...options.kafka,
        groupId,
        topics: member.topics.map((t) => t.name),
        acquireMode: membership.acquireMode,
        maxRecords: membership.maxRecords,
        maxWaitMs: SHARE_MAX_WAIT_MS,
        ...(membership.maxRecordLocks === undefined ? {} : { maxRecordLocks: membership.maxRecordLocks }),
        // The shutdown drain bounds the close; its last acknowledgements get a few seconds.
        closeTimeoutMs: 5000,
      })
      consumer.on('warning', (e) =>
        events.emit('error.occurred', {
          type: 'consumer.connection.error',
          error: e.error,
          consumerGroup: groupId,
        }),
      )
      consumer.on('lock_lost', (e) => progress.lost(e.topic, e.partition, e.offsets, e.reason))
      const capacities = new Map(member.topics.map((t) => [t.name, t.processing.capacity]))
      return new ShareRecordSource(consumer, hooks, progress, member.shutdownTimeoutMs, capacities)
    },
  })
}

/** Resolves when `work` settles or at `deadline` (epoch ms), whichever comes first. */
async function untilDeadline(work: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
  })
  try {
    await Promise.race([work.then(() => {}), expired])
  } finally {
    clearTimeout(timer)
  }
}
