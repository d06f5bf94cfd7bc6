// A processing runtime on multilane's own in-memory pieces: an InMemorySource, consumer-group
// progress committing into a map, the consumer-group failure policy with an in-memory dead
// letter sink. Deterministic tests of budgets, revocation races and shutdown; no broker.
import { pino } from 'pino'
import type { ConsumerRecord, OffsetToCommit } from '../../src/engine/types.ts'
import { partitionKey } from '../../src/engine/types.ts'
import { EventBus, type EventName, type MultilaneEvents } from '../../src/instrumentation/events.ts'
import { OffsetCommitProgress } from '../../src/processing/consumer-group/offset-commit-progress.ts'
import type { DeadLetterSink } from '../../src/processing/dead-letter-queue.ts'
import { raw } from '../../src/processing/deserializers.ts'
import { RetryThenDeadLetter } from '../../src/processing/failure-policy.ts'
import { ProcessingRuntime, type RecordFilter } from '../../src/processing/processing-runtime.ts'
import { defaultLaneReducer } from '../../src/processing/routing/reducers.ts'
import type { ProcessingSettings, RetrySettings, RuntimeTopic } from '../../src/processing/runtime-input.ts'
import { InMemorySource } from './in-memory-source.ts'

export interface HarnessTopic extends Partial<Omit<RuntimeTopic, 'processing' | 'retries'>> {
  name: string
  processing?: Partial<ProcessingSettings>
  retries?: Omit<RetrySettings, 'mode'> & { mode?: RetrySettings['mode'] }
}

export interface HarnessOptions {
  topics: HarnessTopic[]
  shutdownTimeoutMs?: number
  revokeTimeoutMs?: number
  filter?: RecordFilter
  /** Dead letter produces fail while this returns true. */
  deadLetterFails?: () => boolean
  /** Commits fail (reject) while this returns true. */
  commitFails?: () => boolean
  /** Each commit lands only once the promise this returns resolves (a slow broker); none: at once. */
  commitLatency?: () => Promise<void> | undefined
}

/** Commits the runtime sent to the harness's broker side. */
export interface CommitCounts {
  started: number
  /** Started and not answered yet. */
  inFlight: number
  /** The most that were ever in flight at once. */
  maxInFlight: number
}

export interface Harness {
  runtime: ProcessingRuntime
  source: InMemorySource
  events: EventBus
  /** The last committed offset (and metadata) per partition key. */
  committed: Map<string, OffsetToCommit>
  commits: CommitCounts
  deadLettered: ConsumerRecord[]
  fatal: Error[]
  /** Every event of these names, in order. */
  collect<K extends EventName>(name: K): Array<MultilaneEvents[K]>
  committedOffset(topic: string, partition: number): number | undefined
}

export function topicOf(t: HarnessTopic): RuntimeTopic {
  return {
    deserializer: raw(),
    virtualPartitions: { partitioner: (r) => r.keyString, reducer: defaultLaneReducer, maxPartitions: 16 },
    manualOffsets: false,
    handler: () => {},
    ...t,
    retries: {
      maxRetries: 3,
      backoff: { initialMs: 20, maxMs: 200, exponential: true },
      mode: 'local',
      ...t.retries,
    },
    processing: {
      style: 'continuous',
      capacity: 10,
      ordering: 'partition',
      maxPollRecords: 500,
      commitIntervalMs: 50,
      ...t.processing,
    },
  }
}

export function createHarness(options: HarnessOptions): Harness {
  const events = new EventBus()
  const committed = new Map<string, OffsetToCommit>()
  const commits: CommitCounts = { started: 0, inFlight: 0, maxInFlight: 0 }
  const deadLettered: ConsumerRecord[] = []
  const fatal: Error[] = []
  const sink: DeadLetterSink = {
    async dispatch(_topic, records) {
      if (options.deadLetterFails?.()) throw new Error('dead letter topic unavailable')
      deadLettered.push(...records)
    },
  }
  const progress = new OffsetCommitProgress({
    consumerGroup: 'g',
    events,
    commit: async (offsets) => {
      commits.started++
      commits.maxInFlight = Math.max(commits.maxInFlight, ++commits.inFlight)
      try {
        await options.commitLatency?.()
        if (options.commitFails?.()) throw new Error('the coordinator refused the commit')
        for (const o of offsets) committed.set(partitionKey(o.topic, o.partition), { ...o })
      } finally {
        commits.inFlight--
      }
    },
  })
  let source!: InMemorySource
  const runtime = new ProcessingRuntime({
    member: {
      group: { name: 'g', segmentId: -1, segmentOrigin: 'g' },
      label: 'g',
      topics: options.topics.map(topicOf),
      revokeTimeoutMs: options.revokeTimeoutMs ?? 5000,
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5000,
      statisticsIntervalMs: 0,
    },
    events,
    logger: pino({ enabled: false }),
    progress,
    filter: options.filter,
    failurePolicy: (laneQueued) =>
      new RetryThenDeadLetter({
        group: { name: 'g', segmentId: -1, segmentOrigin: 'g' },
        events,
        deadLetters: sink,
        laneQueued,
      }),
    source: (hooks) => {
      source = new InMemorySource(hooks)
      return source
    },
    onFatal: (error) => fatal.push(error),
  })
  return {
    runtime,
    source,
    events,
    committed,
    commits,
    deadLettered,
    fatal,
    collect(name) {
      const out: Array<MultilaneEvents[typeof name]> = []
      events.on(name, (e) => out.push(e))
      return out
    },
    committedOffset: (topic, partition) => committed.get(partitionKey(topic, partition))?.offset,
  }
}
