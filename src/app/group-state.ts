/** A group's declarations as recorded by its builder, and their validation (both kinds of group). */
import type { z } from 'zod'
import { describeValue } from '../describe-value.ts'
import {
  ConfigurationError,
  type ConfigurationIssue,
  joinLocation,
  label,
  validate,
} from './configuration-error.ts'
import type { TopicDefinition } from './definition.ts'
import { consumerGroupSettingsContract } from './options/consumer-group.ts'
import { PARALLEL_SEGMENTS_DEFAULTS, parallelSegmentsContract } from './options/parallel-segments.ts'
import { isObject } from './options/rules.ts'
import { shareGroupSettingsContract } from './options/share-group.ts'
import { shareTopicContract, topicContract } from './options/topic.ts'

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

/** What differs between the kinds of groups: where they are named, their topics' and features' contracts. */
export interface GroupKind {
  /** `consumerGroup` or `shareGroup`: the method that defines one, and the start of its locations. */
  method: 'consumerGroup' | 'shareGroup'
  topicContract: z.ZodType
  /**
   * Group-level features, validated in this order. Extension point: a feature such as
   * `parallelSegments` adds a method to the group's builder that calls `state.setFeature`, an
   * entry here with its contract (from `./options/<feature>.ts`), and its field to the group's
   * definition.
   */
  features: readonly GroupFeature[]
}

export const CONSUMER_GROUP: GroupKind = {
  method: 'consumerGroup',
  topicContract,
  features: [
    { method: 'options', field: 'settings', contract: consumerGroupSettingsContract, defaultInput: {} },
    {
      method: 'parallelSegments',
      field: 'parallelSegments',
      contract: parallelSegmentsContract,
      defaultInput: { count: PARALLEL_SEGMENTS_DEFAULTS.count },
    },
  ],
}

export const SHARE_GROUP: GroupKind = {
  method: 'shareGroup',
  topicContract: shareTopicContract,
  features: [
    { method: 'options', field: 'settings', contract: shareGroupSettingsContract, defaultInput: {} },
  ],
}

/** @internal What a group builder records; AppBuilder validates it when the callback returns. */
export class GroupState {
  readonly name: string
  readonly kind: GroupKind
  readonly location: string
  readonly topics: Array<{ name: unknown; options: unknown }> = []
  readonly features = new Map<string, unknown>()
  sealed = false

  constructor(name: string, kind: GroupKind) {
    this.name = name
    this.kind = kind
    this.location = label(kind.method, name)
  }

  assertOpen(call: string): void {
    if (this.sealed) {
      throw new ConfigurationError([
        {
          path: this.location,
          message: `${call} was called after the ${this.kind.method}() callback returned`,
        },
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

/**
 * Validates what a group's callback declared: its topics (by its kind's topic contract), that
 * they share one style, and its features. Throws one ConfigurationError with every issue.
 */
export function buildGroup(
  state: GroupState,
): Record<string, unknown> & { name: string; topics: TopicDefinition[] } {
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
    const result = validate(
      state.kind.topicContract,
      { ...options, name },
      { location, hiddenKeys: ['name'] },
    )
    if (result.ok) topics.push(result.value as TopicDefinition)
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
          `must be "${first.processing.style}" like topic "${first.name}": a group runs one ` +
          `processing loop per member, so all its topics share one style (got "${topic.processing.style}")`,
      })
    }
  }

  const group: Record<string, unknown> & { name: string; topics: TopicDefinition[] } = {
    name: state.name,
    topics,
  }
  for (const feature of state.kind.features) {
    const given = state.features.has(feature.method)
    if (!given && feature.defaultInput === undefined) continue
    const input = given ? state.features.get(feature.method) : feature.defaultInput
    const result = validate(feature.contract, input, { location: state.location, prefix: [feature.method] })
    if (result.ok) group[feature.field] = result.value
    else issues.push(...result.issues)
  }

  if (issues.length > 0) throw new ConfigurationError(issues)
  return group
}
