/** The builders group callbacks get: `app.consumerGroup(name, (g) => …)`, `app.shareGroup(name, (g) => …)`. */

import type { Ordering } from './definition.ts'
import type { GroupState } from './group-state.ts'
import type { ConsumerGroupOptions } from './options/consumer-group.ts'
import type { ParallelSegmentsOptions } from './options/parallel-segments.ts'
import type { ShareGroupOptions } from './options/share-group.ts'
import type { ShareOrdering, ShareTopicOptions, TopicOptions } from './options/topic.ts'

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
  topic<T = Buffer | null, const O extends Ordering = 'partition'>(
    name: string,
    options: TopicOptions<T, O>,
  ): this {
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

/** Defines one share group's topics and settings; passed to the `shareGroup` callback. */
export class ShareGroupBuilder {
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
   * Consumes topic `name` as a share group: its records are shared out to the group's members
   * record by record (no ordering across members). Same options as a consumer group's topic,
   * plus `retries.mode`; without `manualOffsets`, and `processing.ordering` is `'unordered'`
   * (default) or `'key'` (within this member only).
   */
  topic<T = Buffer | null, const O extends ShareOrdering = 'unordered'>(
    name: string,
    options: ShareTopicOptions<T, O>,
  ): this {
    this.#state.assertOpen('g.topic()')
    this.#state.topics.push({ name, options })
    return this
  }

  /** Group-wide settings (offset reset, acquire mode, lock budget). At most one call per group. */
  options(settings: ShareGroupOptions): this {
    this.#state.setFeature('options', settings)
    return this
  }
}
