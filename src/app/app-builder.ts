/**
 * The definition DSL: `createApp(options).consumerGroup(name, (g) => { g.topic(…) })` and
 * `.shareGroup(name, …)`. Every call is validated against the option contracts in `./options/`;
 * a group is validated as a whole when its callback returns, so all of its problems are
 * reported in one ConfigurationError.
 */
import { describeValue } from '../describe-value.ts'
import { segmentGroupName } from '../segments/segment-names.ts'
import { ConfigurationError, type ConfigurationIssue, label, validate } from './configuration-error.ts'
import type {
  AppDefinition,
  AppSettings,
  ConsumerGroupDefinition,
  ShareGroupDefinition,
} from './definition.ts'
import { ConsumerGroupBuilder, ShareGroupBuilder } from './group-builders.ts'
import { buildGroup, CONSUMER_GROUP, type GroupKind, GroupState, SHARE_GROUP } from './group-state.ts'
import { type AppLogger, type AppOptions, appContract } from './options/app.ts'
import { consumerGroupNameContract } from './options/consumer-group.ts'

export { ConsumerGroupBuilder, ShareGroupBuilder } from './group-builders.ts'
export type { AppLogger, AppOptions } from './options/app.ts'
export type { ConsumerGroupOptions } from './options/consumer-group.ts'
export type { DeadLetterQueueOptions } from './options/dead-letter-queue.ts'
export type { KafkaOptions } from './options/kafka.ts'
export type { ParallelSegmentsOptions, ParallelSegmentsSettings } from './options/parallel-segments.ts'
export type { ProcessingOptions } from './options/processing.ts'
export type { RetryBackoffOptions, RetryOptions } from './options/retries.ts'
export type { ShareGroupOptions, ShareGroupSettings } from './options/share-group.ts'
export type { TopicOptions } from './options/topic.ts'
export type { VirtualPartitionsOptions } from './options/virtual-partitions.ts'

/** Collects and validates an application definition. */
export class AppBuilder {
  readonly #settings: AppSettings
  readonly #logger: AppLogger | false | 'pretty' | undefined
  readonly #groups: ConsumerGroupDefinition[] = []
  readonly #shareGroups: ShareGroupDefinition[] = []

  /** Validates `options` at once; throws ConfigurationError. */
  constructor(options: AppOptions) {
    const result = validate(appContract, options ?? {}, { location: 'app' })
    if (!result.ok) throw new ConfigurationError(result.issues)
    const { logger, ...settings } = result.value
    this.#settings = settings
    this.#logger = logger
  }

  /** The validated `logger` option (undefined: not given, false: logging off, 'pretty': readable lines). */
  get logger(): AppLogger | false | 'pretty' | undefined {
    return this.#logger
  }

  /**
   * Defines consumer group `name`: `configure` declares its topics (and settings) synchronously.
   * The group is validated when `configure` returns; throws ConfigurationError.
   */
  consumerGroup(name: string, configure: (group: ConsumerGroupBuilder) => void): this {
    const group = this.#define(name, CONSUMER_GROUP, configure, (state) => new ConsumerGroupBuilder(state))
    this.#groups.push(group as unknown as ConsumerGroupDefinition)
    return this
  }

  /**
   * Defines share group `name` (KIP-932): `configure` declares its topics (and settings)
   * synchronously. The group is validated when `configure` returns; throws ConfigurationError.
   */
  shareGroup(name: string, configure: (group: ShareGroupBuilder) => void): this {
    const group = this.#define(name, SHARE_GROUP, configure, (state) => new ShareGroupBuilder(state))
    this.#shareGroups.push(group as unknown as ShareGroupDefinition)
    return this
  }

  #define<B>(
    name: string,
    kind: GroupKind,
    configure: (group: B) => void,
    builder: (state: GroupState) => B,
  ): ReturnType<typeof buildGroup> {
    const state = new GroupState(name, kind)
    const issues: ConfigurationIssue[] = []
    const named = validate(consumerGroupNameContract, name, { location: state.location, prefix: ['name'] })
    if (!named.ok) issues.push(...named.issues)
    const sameKind = (kind === CONSUMER_GROUP ? this.#groups : this.#shareGroups).some((g) => g.name === name)
    const otherKind = (kind === CONSUMER_GROUP ? this.#shareGroups : this.#groups).some(
      (g) => g.name === name,
    )
    if (sameKind) {
      issues.push({
        path: state.location,
        message: `is defined twice; define each ${kind.method === 'shareGroup' ? 'share' : 'consumer'} group once, with all its topics`,
      })
    } else if (otherKind) {
      const other = kind === CONSUMER_GROUP ? 'shareGroup' : 'consumerGroup'
      issues.push({
        path: state.location,
        message: `is also defined as ${label(other, name)}: a Kafka group id is either a consumer group or a share group; rename one`,
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
      returned = configure(builder(state))
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
    // Segment groups are Kafka groups of their own, and a group id has one type in Kafka: no
    // two definitions may share one.
    const names =
      kind === CONSUMER_GROUP ? kafkaGroupNames(group as unknown as ConsumerGroupDefinition) : [name]
    const others: Array<[string, string[]]> = [
      ...this.#groups.map((g): [string, string[]] => [label('consumerGroup', g.name), kafkaGroupNames(g)]),
      ...this.#shareGroups.map((g): [string, string[]] => [label('shareGroup', g.name), [g.name]]),
    ]
    for (const [other, otherNames] of others) {
      const shared = names.find((n) => otherNames.includes(n))
      if (shared !== undefined) {
        throw new ConfigurationError([
          {
            path: state.location,
            message: `runs as Kafka group "${shared}", which ${other} also runs as; rename one (or change parallelSegments.mergeKey)`,
          },
        ])
      }
    }
    return group
  }

  /** The validated definition, defaults applied. */
  definition(): AppDefinition {
    return {
      settings: this.#settings,
      consumerGroups: [...this.#groups],
      shareGroups: [...this.#shareGroups],
    }
  }
}

/** The Kafka groups a defined group runs as: its name, or one per segment. */
export function kafkaGroupNames(group: ConsumerGroupDefinition): string[] {
  const { count, mergeKey } = group.parallelSegments
  return count > 1
    ? Array.from({ length: count }, (_, i) => segmentGroupName(group.name, mergeKey, i))
    : [group.name]
}
