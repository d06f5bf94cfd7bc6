/**
 * The definition DSL: `createApp(options).consumerGroup(name, (g) => { g.topic(…) })`. Every call
 * is validated against the option contracts in `./options/`; a group is validated as a whole
 * when its callback returns, so all of its problems are reported in one ConfigurationError.
 */
import type { z } from 'zod'
import { segmentGroupName } from '../segments/segment-names.ts'
import {
  ConfigurationError,
  type ConfigurationIssue,
  describeValue,
  joinLocation,
  label,
  validate,
} from './configuration-error.ts'
import type { AppDefinition, AppSettings, ConsumerGroupDefinition, TopicDefinition } from './definition.ts'
import { type AppLogger, type AppOptions, appContract } from './options/app.ts'
import {
  type ConsumerGroupOptions,
  consumerGroupNameContract,
  consumerGroupSettingsContract,
} from './options/consumer-group.ts'
import {
  PARALLEL_SEGMENTS_DEFAULTS,
  type ParallelSegmentsOptions,
  parallelSegmentsContract,
} from './options/parallel-segments.ts'
import { isObject } from './options/rules.ts'
import { type TopicOptions, topicContract } from './options/topic.ts'

export type { AppLogger, AppOptions } from './options/app.ts'
export type { ConsumerGroupOptions } from './options/consumer-group.ts'
export type { DeadLetterQueueOptions } from './options/dead-letter-queue.ts'
export type { KafkaOptions } from './options/kafka.ts'
export type { ParallelSegmentsOptions, ParallelSegmentsSettings } from './options/parallel-segments.ts'
export type { ProcessingOptions } from './options/processing.ts'
export type { RetryBackoffOptions, RetryOptions } from './options/retries.ts'
export type { TopicOptions } from './options/topic.ts'
export type { VirtualPartitionsOptions } from './options/virtual-partitions.ts'

/**
 * A group-level feature set by one `g.<method>(input)` call (at most once per group). Its input
 * is validated when the group's callback returns and the result is stored on the group
 * definition under `field`; without the call, `defaultInput` (when set) is validated instead.
 */
interface GroupFeature {
  method: string
  field: string
  contract: z.ZodType
  defaultInput?: unknown
}

/**
 * Group-level features, validated in this order. Extension point: a feature such as
 * `parallelSegments` adds a method to ConsumerGroupBuilder that calls `state.setFeature`, an
 * entry here with its contract (from `./options/<feature>.ts`), and its field to
 * ConsumerGroupDefinition.
 */
const GROUP_FEATURES: readonly GroupFeature[] = [
  { method: 'options', field: 'settings', contract: consumerGroupSettingsContract, defaultInput: {} },
  {
    method: 'parallelSegments',
    field: 'parallelSegments',
    contract: parallelSegmentsContract,
    defaultInput: { count: PARALLEL_SEGMENTS_DEFAULTS.count },
  },
]

/** @internal What a ConsumerGroupBuilder records; AppBuilder validates it when the callback returns. */
export class GroupState {
  readonly name: string
  readonly location: string
  readonly topics: Array<{ name: unknown; options: unknown }> = []
  readonly features = new Map<string, unknown>()
  sealed = false

  constructor(name: string) {
    this.name = name
    this.location = label('consumerGroup', name)
  }

  assertOpen(call: string): void {
    if (this.sealed) {
      throw new ConfigurationError([
        { path: this.location, message: `${call} was called after the consumerGroup() callback returned` },
      ])
    }
  }

  setFeature(method: string, input: unknown): void {
    this.assertOpen(`g.${method}()`)
    if (this.features.has(method)) {
      throw new ConfigurationError([
        {
          path: joinLocation(this.location, method),
          message: `g.${method}() may be called only once per group`,
        },
      ])
    }
    this.features.set(method, input)
  }
}

/** Defines one consumer group's topics and settings; passed to the `consumerGroup` callback. */
export class ConsumerGroupBuilder {
  readonly #state: GroupState

  /** @internal Created by AppBuilder. */
  constructor(state: GroupState) {
    this.#state = state
  }

  /** The group's name. */
  get name(): string {
    return this.#state.name
  }

  /**
   * Consumes topic `name`. The payload type of the handler's records comes from the
   * deserializer (`json<Order>()` → `Order | null`; none → `Buffer | null`).
   */
  topic<T = Buffer | null>(name: string, options: TopicOptions<T>): this {
    this.#state.assertOpen('g.topic()')
    this.#state.topics.push({ name, options })
    return this
  }

  /** Group-wide settings (offset reset, isolation, timeouts). At most one call per group. */
  options(settings: ConsumerGroupOptions): this {
    this.#state.setFeature('options', settings)
    return this
  }

  /**
   * Splits the group into `count` Kafka groups (`<name><mergeKey><id>`, e.g.
   * `analytics-parallel-0`), each reading every record and processing those its segment is
   * routed: `reducer(partitioner(record), count) === id`. At most one call per group.
   */
  parallelSegments(segments: ParallelSegmentsOptions): this {
    this.#state.setFeature('parallelSegments', segments)
    return this
  }
}

/** Collects and validates an application definition. */
export class AppBuilder {
  readonly #settings: AppSettings
  readonly #logger: AppLogger | false | undefined
  readonly #groups: ConsumerGroupDefinition[] = []

  /** Validates `options` at once; throws ConfigurationError. */
  constructor(options: AppOptions) {
    const result = validate(appContract, options ?? {}, { location: 'app' })
    if (!result.ok) throw new ConfigurationError(result.issues)
    const { logger, ...settings } = result.value
    this.#settings = settings
    this.#logger = logger
  }

  /** The validated `logger` option (undefined: not given, false: logging off). */
  get logger(): AppLogger | false | undefined {
    return this.#logger
  }

  /**
   * Defines consumer group `name`: `configure` declares its topics (and settings) synchronously.
   * The group is validated when `configure` returns; throws ConfigurationError.
   */
  consumerGroup(name: string, configure: (group: ConsumerGroupBuilder) => void): this {
    const state = new GroupState(name)
    const issues: ConfigurationIssue[] = []
    const named = validate(consumerGroupNameContract, name, { location: state.location, prefix: ['name'] })
    if (!named.ok) issues.push(...named.issues)
    if (this.#groups.some((g) => g.name === name)) {
      issues.push({
        path: state.location,
        message: 'is defined twice; define each consumer group once, with all its topics',
      })
    }
    if (typeof configure !== 'function') {
      issues.push({
        path: state.location,
        message: `needs a callback that defines its topics (got ${describeValue(configure)})`,
      })
    }
    if (issues.length > 0) throw new ConfigurationError(issues)

    let returned: unknown
    try {
      returned = configure(new ConsumerGroupBuilder(state))
    } finally {
      state.sealed = true
    }
    // An async callback would define its topics after the group was validated.
    if (typeof (returned as { then?: unknown } | undefined)?.then === 'function') {
      throw new ConfigurationError([
        {
          path: state.location,
          message: 'the callback must define the group synchronously (it returned a promise)',
        },
      ])
    }
    const group = buildGroup(state)
    // Segment groups are Kafka groups of their own: no two definitions may share one.
    for (const other of this.#groups) {
      const shared = kafkaGroupNames(group).find((n) => kafkaGroupNames(other).includes(n))
      if (shared !== undefined) {
        throw new ConfigurationError([
          {
            path: state.location,
            message: `runs as Kafka group "${shared}", which ${label('consumerGroup', other.name)} also runs as; rename one (or change parallelSegments.mergeKey)`,
          },
        ])
      }
    }
    this.#groups.push(group)
    return this
  }

  /** The validated definition, defaults applied. */
  definition(): AppDefinition {
    return { settings: this.#settings, consumerGroups: [...this.#groups] }
  }
}

/** The Kafka groups a defined group runs as: its name, or one per segment. */
export function kafkaGroupNames(group: ConsumerGroupDefinition): string[] {
  const { count, mergeKey } = group.parallelSegments
  return count > 1
    ? Array.from({ length: count }, (_, i) => segmentGroupName(group.name, mergeKey, i))
    : [group.name]
}

function buildGroup(state: GroupState): ConsumerGroupDefinition {
  const issues: ConfigurationIssue[] = []
  const topics: TopicDefinition[] = []
  const seen = new Set<unknown>()

  for (const { name, options } of state.topics) {
    const location = joinLocation(state.location, label('topic', name))
    if (seen.has(name)) {
      issues.push({ path: location, message: 'is defined twice in this group; define each topic once' })
      continue
    }
    seen.add(name)
    if (!isObject(options)) {
      issues.push({
        path: location,
        message: `needs an options object with a handler (got ${describeValue(options)})`,
      })
      continue
    }
    if (Object.hasOwn(options, 'name')) {
      issues.push({
        path: joinLocation(location, 'name'),
        message: 'unknown option: the name is the first argument of g.topic()',
      })
      continue
    }
    const result = validate(topicContract, { ...options, name }, { location, hiddenKeys: ['name'] })
    if (result.ok) topics.push(result.value)
    else issues.push(...result.issues)
  }

  if (state.topics.length === 0) {
    issues.push({
      path: state.location,
      message: 'must define at least one topic: call g.topic(name, options) in the callback',
    })
  }

  // One processing loop per group member runs all its topics, so they share its style.
  const [first, ...rest] = topics
  for (const topic of rest) {
    if (first && topic.processing.style !== first.processing.style) {
      issues.push({
        path: joinLocation(state.location, label('topic', topic.name), 'processing.style'),
        message:
          `must be "${first.processing.style}" like topic "${first.name}": a consumer group runs one ` +
          `processing loop per member, so all its topics share one style (got "${topic.processing.style}")`,
      })
    }
  }

  const group: Record<string, unknown> = { name: state.name, topics }
  for (const feature of GROUP_FEATURES) {
    const given = state.features.has(feature.method)
    if (!given && feature.defaultInput === undefined) continue
    const input = given ? state.features.get(feature.method) : feature.defaultInput
    const result = validate(feature.contract, input, { location: state.location, prefix: [feature.method] })
    if (result.ok) group[feature.field] = result.value
    else issues.push(...result.issues)
  }

  if (issues.length > 0) throw new ConfigurationError(issues)
  // Every field of ConsumerGroupDefinition is set above: name, topics, and one per GROUP_FEATURES entry.
  return group as unknown as ConsumerGroupDefinition
}
