/**
 * `segments check`: how the app's routing spreads recent records over the segments. Reads up to
 * `sample` recent records per partition of a group's topics (a standalone fetch: nothing is
 * joined or committed), routes each one as the segments would, and reports per segment the
 * records, their share and the distinct partitioner values ("keys"), flagging idle segments and
 * segments over 1.5× their fair share; and what the default and Karafka reducers would make of
 * the same values.
 */
import type { AppDefinition, ConsumerGroupDefinition } from '../app/definition.ts'
import type { ParallelSegmentsSettings } from '../app/options/parallel-segments.ts'
import { KafkaCluster } from '../kafka/cluster.ts'
import { type KafkaConnectionOptions, resolveConnection } from '../kafka/connection-options.ts'
import { ConsumedRecord } from '../processing/record.ts'
import { defaultSegmentReducer, karafkaReducer } from '../segments/reducers.ts'
import { segmentOf } from '../segments/routing.ts'
import { readRanges } from './record-reader.ts'
import { segmentedGroups } from './segment-offsets/command.ts'
import { tpKey } from './segment-offsets/group-offsets.ts'
import { groupPartitions, logBounds } from './segment-offsets/snapshot.ts'

/** A segment over this many times its fair share (records ÷ count) is flagged. */
export const HOT_SEGMENT_RATIO = 1.5

/** One segment's part of the sample. */
export interface SegmentShare {
  segment: number
  records: number
  /** records ÷ all records sampled (0 when nothing was sampled). */
  share: number
  /** Distinct partitioner values among its records. */
  keys: number
  idle: boolean
  /** Over HOT_SEGMENT_RATIO × its fair share. */
  hot: boolean
}

/** Records per segment under one reducer. */
export interface ReducerSpread {
  reducer: 'app' | 'default' | 'karafka'
  records: number[]
  idle: number
  hot: number
}

/** The check of one segmented group. */
export interface GroupCheck {
  origin: string
  count: number
  /** Which reducer the app uses. */
  appReducer: 'default' | 'karafka' | 'custom'
  topics: string[]
  partitions: number
  sampled: number
  /** Records whose partitioner or reducer failed (they go to segment 0). */
  routingErrors: number
  segments: SegmentShare[]
  reducers: ReducerSpread[]
}

/** Accumulates a sample's routing (pure: unit-tested without a broker). */
export class SegmentSample {
  readonly #routing: ParallelSegmentsSettings
  readonly #records: number[]
  readonly #keys: Array<Set<string>>
  readonly #byReducer: Record<'default' | 'karafka', number[]>
  #errors = 0

  constructor(routing: ParallelSegmentsSettings) {
    this.#routing = routing
    this.#records = new Array(routing.count).fill(0)
    this.#keys = Array.from({ length: routing.count }, () => new Set<string>())
    this.#byReducer = { default: new Array(routing.count).fill(0), karafka: new Array(routing.count).fill(0) }
  }

  add(record: ConsumedRecord<unknown>): void {
    const { count, reducer } = this.#routing
    let value: unknown
    let partitionerFailed = false
    try {
      value = this.#routing.partitioner(record)
    } catch {
      partitionerFailed = true
    }
    let reducerFailed = false
    // The app's routing exactly as the segments apply it (errors → segment 0).
    const routed = (r: (value: unknown, count: number) => number, onError?: () => void) =>
      partitionerFailed ? 0 : segmentOf(record, { count, reducer: r, partitioner: () => value }, onError)
    const segment = routed(reducer, () => {
      reducerFailed = true
    })
    this.#records[segment]!++
    if (partitionerFailed || reducerFailed) this.#errors++
    if (!partitionerFailed) this.#keys[segment]!.add(keyIdentity(value))
    this.#byReducer.default[routed(defaultSegmentReducer)]!++
    this.#byReducer.karafka[routed(karafkaReducer)]!++
  }

  result(): Pick<GroupCheck, 'sampled' | 'routingErrors' | 'segments' | 'reducers'> {
    const sampled = this.#records.reduce((a, b) => a + b, 0)
    const fair = sampled / this.#routing.count
    const hot = (n: number) => sampled > 0 && n > HOT_SEGMENT_RATIO * fair
    const spread = (reducer: ReducerSpread['reducer'], records: number[]): ReducerSpread => ({
      reducer,
      records: [...records],
      idle: sampled > 0 ? records.filter((n) => n === 0).length : 0,
      hot: records.filter(hot).length,
    })
    return {
      sampled,
      routingErrors: this.#errors,
      segments: this.#records.map((records, segment) => ({
        segment,
        records,
        share: sampled > 0 ? records / sampled : 0,
        keys: this.#keys[segment]!.size,
        idle: sampled > 0 && records === 0,
        hot: hot(records),
      })),
      reducers: [
        spread('app', this.#records),
        spread('default', this.#byReducer.default),
        spread('karafka', this.#byReducer.karafka),
      ],
    }
  }
}

/** A partitioner value as a set member: equal values (by type and content) are one key. */
export function keyIdentity(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('base64')}`
  if (typeof value === 'object') {
    try {
      return `json:${JSON.stringify(value)}`
    } catch {
      return `object:${String(value)}`
    }
  }
  return `${typeof value}:${String(value)}`
}

export interface CheckOptions {
  groups?: readonly string[]
  /** Records per partition, the most recent ones. */
  sample: number
}

export interface CheckReport {
  noSegmentedGroups: boolean
  sample: number
  groups: GroupCheck[]
}

/** Checks the routing of the app's segmented groups (or those named) on a sample of recent records. */
export async function checkSegments(
  app: AppDefinition,
  connection: KafkaConnectionOptions,
  options: CheckOptions,
): Promise<CheckReport> {
  const groups = segmentedGroups(app, options.groups)
  const report: CheckReport = { noSegmentedGroups: groups.length === 0, sample: options.sample, groups: [] }
  if (groups.length === 0) return report
  const cluster = new KafkaCluster(resolveConnection(connection))
  try {
    for (const group of groups) report.groups.push(await checkGroup(cluster, group, options.sample))
  } finally {
    await cluster.close()
  }
  return report
}

async function checkGroup(
  cluster: KafkaCluster,
  group: ConsumerGroupDefinition,
  sample: number,
): Promise<GroupCheck> {
  const partitions = await groupPartitions(cluster, group)
  const bounds = await logBounds(cluster, group, partitions)
  const ranges = partitions.map((p) => {
    const key = tpKey(p.topic, p.partition)
    const to = bounds.end.get(key) ?? 0
    return { ...p, from: Math.max(bounds.start.get(key) ?? 0, to - sample), to }
  })
  const routing = group.parallelSegments
  const deserializers = new Map(group.topics.map((t) => [t.name, t.deserializer]))
  const accumulated = new SegmentSample(routing)
  await readRanges(cluster, ranges, { isolationLevel: group.settings.isolationLevel }, (range, records) => {
    const deserializer = deserializers.get(range.topic)!
    for (const raw of records) accumulated.add(new ConsumedRecord(raw, deserializer))
  })
  return {
    origin: group.name,
    count: routing.count,
    appReducer:
      routing.reducer === defaultSegmentReducer
        ? 'default'
        : routing.reducer === karafkaReducer
          ? 'karafka'
          : 'custom',
    topics: group.topics.map((t) => t.name),
    partitions: partitions.length,
    ...accumulated.result(),
  }
}
