// Runs an app in a test until it has nothing left to do: every consumer group committed at the
// log end of its topics' partitions, every share group's share-partitions at lag 0.

import { readCommittedOffsets } from '../admin/segment-offsets/group-offsets.ts'
import { describeShareGroup } from '../admin/share.ts'
import type { App, StartOptions } from '../app/app.ts'
import { kafkaGroupNames } from '../app/app-builder.ts'
import type { AppDefinition } from '../app/definition.ts'
import { listOffsets } from '../engine/offset-resolver.ts'
import type { EventName, MultilaneEvents } from '../instrumentation/events.ts'
import { KafkaCluster } from '../kafka/cluster.ts'
import { resolveConnection } from '../kafka/connection-options.ts'

/** A record a handler finished (`consumer.consumed`). */
export interface HandledRecord {
  consumerGroup: string
  topic: string
  partition: number
  offset: number
  /** 1 when the first attempt succeeded. */
  attempts: number
}

/** An event the app emitted, in order. */
export type CollectedEvent = { [K in EventName]: { name: K; event: MultilaneEvents[K] } }[EventName]

export interface RunUntilIdleResult {
  /** Records handled successfully, in the order they finished (a record handled twice is listed twice). */
  handled: HandledRecord[]
  /** Records sent to a dead letter topic. */
  deadLettered: Array<MultilaneEvents['dead_letter_queue.dispatched']>
  /** Every event the app emitted while it ran. */
  events: CollectedEvent[]
}

export interface RunUntilIdleOptions {
  /** Fails (naming what still lags) when the app is not idle by then. Default 60000. */
  timeoutMs?: number
  /** How often the lag is read. Default 200. */
  pollIntervalMs?: number
  /** Passed to `app.start()`. */
  start?: StartOptions
}

/** Lag of every partition of the app's groups that is not done yet, one line each (empty: idle). */
export type LagReport = string[]

// Every event, so none is missed (a new event name is a type error here until it is listed).
const EVENT_NAMES: Record<EventName, true> = {
  'error.occurred': true,
  'consumer.consumed': true,
  'offsets.committed': true,
  'partitions.assigned': true,
  'partitions.revoked': true,
  'dead_letter_queue.dispatched': true,
  'offsets.map_limit_reached': true,
  'offsets.window_limit_reached': true,
  'offsets.map_discarded': true,
  'topics.missing': true,
  'group.protocol_chosen': true,
  'partitions.position_reset': true,
  'parallel_segments.fingerprint_mismatch': true,
  'share.released': true,
  'share.rejected': true,
  'share.lock_renewed': true,
  'share.lock_lost': true,
  'statistics.emitted': true,
}

/**
 * Starts `app`, waits until it is idle (every consumer group — every segment's group — committed
 * at the log end of each partition of its topics; every share group at share-partition lag 0),
 * stops it, and returns the records it handled and the events it emitted. Produce the test's
 * records before calling it. Rejects when the app fails, or after `timeoutMs` with the lag still
 * left (group, topic, partition, committed and end offsets); the app is stopped either way.
 */
export async function runUntilIdle(app: App, options: RunUntilIdleOptions = {}): Promise<RunUntilIdleResult> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const result: RunUntilIdleResult = { handled: [], deadLettered: [], events: [] }
  const listeners = (Object.keys(EVENT_NAMES) as EventName[]).map((name) => {
    const listener = (event: MultilaneEvents[EventName]) => {
      result.events.push({ name, event } as CollectedEvent)
      if (name === 'consumer.consumed') {
        const e = event as MultilaneEvents['consumer.consumed']
        result.handled.push({
          consumerGroup: e.consumerGroup,
          topic: e.topic,
          partition: e.partition,
          offset: e.offset,
          attempts: e.attempts,
        })
      }
      if (name === 'dead_letter_queue.dispatched')
        result.deadLettered.push(event as MultilaneEvents['dead_letter_queue.dispatched'])
    }
    app.on(name, listener)
    return { name, listener }
  })
  const definition = app.definition()
  try {
    await app.start(options.start)
    const deadline = Date.now() + timeoutMs
    let lag: LagReport = []
    for (;;) {
      if (app.failure) throw app.failure
      lag = await lagOf(definition, options.start)
      if (lag.length === 0) break
      if (Date.now() > deadline) {
        throw new Error(
          `runUntilIdle: the app was not idle after ${timeoutMs} ms; still lagging:\n${lag.join('\n')}`,
        )
      }
      await new Promise((r) => setTimeout(r, options.pollIntervalMs ?? 200))
    }
  } finally {
    await app.stop()
    for (const { name, listener } of listeners) app.off(name, listener)
  }
  if (app.failure) throw app.failure
  return result
}

/** What is left to do for each group of the app (empty when idle). */
export async function lagOf(definition: AppDefinition, start?: StartOptions): Promise<LagReport> {
  const cluster = new KafkaCluster(resolveConnection(definition.settings.kafka))
  const lagging: string[] = []
  try {
    const topics = [
      ...new Set(
        [...definition.consumerGroups, ...definition.shareGroups].flatMap((g) => g.topics.map((t) => t.name)),
      ),
    ]
    const metadata = await cluster.refreshMetadata(topics)
    const partitionsOf = (topic: string) =>
      (metadata.get(topic)?.partitions ?? []).map((_, partition) => ({ topic, partition }))
    for (const group of definition.consumerGroups) {
      const names = kafkaGroupNames(group).filter(
        (_, i) => group.parallelSegments.count <= 1 || !start?.segments || start.segments.includes(i),
      )
      const partitions = group.topics.flatMap((t) => partitionsOf(t.name))
      for (const t of group.topics)
        if (!metadata.has(t.name))
          lagging.push(`consumerGroup "${group.name}": topic "${t.name}" does not exist`)
      if (partitions.length === 0) continue
      const ends = await listOffsets(cluster, partitions, 'latest', group.settings.isolationLevel)
      for (const name of names) {
        const committed = await readCommittedOffsets(cluster, name, partitions)
        for (const p of partitions) {
          const end = ends.get(`${p.topic}#${p.partition}`) ?? 0
          const at = committed.get(`${p.topic}#${p.partition}`)?.offset ?? -1
          if (end > 0 && at < end)
            lagging.push(
              `consumerGroup "${name}" topic "${p.topic}" partition ${p.partition}: committed ${at < 0 ? 'nothing' : at}, log end ${end} (lag ${end - Math.max(at, 0)})`,
            )
        }
      }
    }
  } finally {
    await cluster.close()
  }
  for (const group of definition.shareGroups) {
    const described = await describeShareGroup(definition.settings.kafka, group.name).catch(() => undefined)
    for (const t of group.topics) {
      const partitions = described?.partitions.filter((p) => p.topic === t.name) ?? []
      if (partitions.length === 0) {
        lagging.push(
          `shareGroup "${group.name}" topic "${t.name}": the group has not started its share-partitions yet`,
        )
        continue
      }
      for (const p of partitions)
        if (p.lag !== 0)
          lagging.push(
            `shareGroup "${group.name}" topic "${p.topic}" partition ${p.partition}: share-partition lag ${p.lag ?? 'unknown'} (start offset ${p.startOffset ?? 'none'}, log end ${p.endOffset ?? 'unknown'})`,
          )
    }
  }
  return lagging
}
