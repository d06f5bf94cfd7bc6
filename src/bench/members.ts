/**
 * A point's group members: one multilane app per member, in this process, each defining the
 * point's group with the workload's options mapped onto the app's own (processing, share group
 * settings, retries, parallel segments).
 */
import { type App, createApp } from '../app/app.ts'
import type { KafkaConnectionOptions } from '../kafka/connection-options.ts'
import type { HandlerContext } from '../processing/handler-context.ts'
import type { ConsumedRecord } from '../processing/record.ts'
import { processingTimeSampler, spend } from './distributions.ts'
import { PUBLISHED_HEADER, SEQ_HEADER } from './rate-producer.ts'
import type { PointRecorder } from './recorder.ts'
import type { PointConfig } from './workload-schema.ts'

/** A handler failure the workload asked for (`failureShare`). */
export class InjectedFailure extends Error {}

export interface BenchMembers {
  apps: App[]
  /** Partitions currently assigned across members (consumer groups; share groups: null). */
  assigned(): number | null
  /** When the assignment last changed (epoch ms). */
  lastAssignmentChange(): number
  /** Errors other than the injected failures. */
  errors(): string[]
  stop(): Promise<void>
}

export function createMembers(
  kafka: KafkaConnectionOptions,
  group: string,
  topic: string,
  config: PointConfig,
  recorder: PointRecorder,
): BenchMembers {
  const k = config.consumers
  const time = processingTimeSampler(k.processing.time)
  const failing = new Set<number>()
  const handler = async (record: ConsumedRecord<Buffer | null>, ctx: HandlerContext): Promise<void> => {
    const seq = Number(record.headers.get(SEQ_HEADER))
    const publishedAt = Number(record.headers.get(PUBLISHED_HEADER))
    recorder.started(seq, publishedAt, Date.now())
    await spend(time(), k.processing.as, ctx.signal)
    if (k.processing.failureShare > 0 && ctx.attempt === 1 && Math.random() < k.processing.failureShare) {
      failing.add(seq)
      recorder.failed()
      throw new InjectedFailure(`bench: injected failure of record ${seq}`)
    }
    recorder.done(seq, publishedAt, Date.now())
  }
  const errors: string[] = []
  let assigned = 0
  let changedAt = Date.now()
  const base = { style: k.style, capacity: k.capacity, maxPollRecords: k.maxPollRecords }
  const processing = { ...base, ...(k.ordering ? { ordering: k.ordering } : {}) }
  // 'partition' is refused for share groups by the workload contract.
  const shareOrdering = k.ordering === 'partition' ? undefined : k.ordering
  const shareProcessing = { ...base, ...(shareOrdering ? { ordering: shareOrdering } : {}) }
  // Injected failures retry soon: the workload measures the retry, not a 1 s default backoff.
  const retries = {
    maxRetries: 10,
    backoff: { initialMs: 100, maxMs: 1000 },
    ...(k.retries ? { mode: k.retries } : {}),
  }
  const apps = Array.from({ length: k.members }, (_, i) => {
    const app = createApp({
      kafka: { ...kafka, clientId: `multilane-bench-${i}` },
      logger: false,
      statisticsIntervalMs: 0,
    })
    if (k.group === 'consumer') {
      app.consumerGroup(group, (g) => {
        g.options({ autoOffsetReset: 'earliest' })
        if (k.segments > 1) {
          g.parallelSegments({ count: k.segments, partitioner: (r) => r.headers.get('user_id') })
        }
        g.topic(topic, { processing, retries, handler })
      })
    } else {
      app.shareGroup(group, (g) => {
        g.options({ autoOffsetReset: 'earliest', ...(k.acquireMode ? { acquireMode: k.acquireMode } : {}) })
        g.topic(topic, { processing: shareProcessing, retries, handler })
      })
    }
    app.on('partitions.assigned', (e) => {
      assigned += e.partitions.length
      changedAt = Date.now()
    })
    app.on('partitions.revoked', (e) => {
      assigned -= e.partitions.length
      changedAt = Date.now()
    })
    app.on('error.occurred', (e) => {
      if (e.error instanceof InjectedFailure || e.error.message.includes('bench: injected failure')) return
      if (errors.length < 20) errors.push(`${e.type}: ${e.error.message}`)
    })
    return app
  })
  return {
    apps,
    assigned: () => (k.group === 'consumer' ? assigned : null),
    lastAssignmentChange: () => changedAt,
    errors: () => errors,
    stop: async () => {
      await Promise.allSettled(apps.map((a) => a.stop()))
    },
  }
}
