/** `error.occurred` types, so handlers of the event can switch on them. */
export type ErrorType =
  | 'consumer.handler.error'
  | 'consumer.deserializer.error'
  | 'consumer.retries_exhausted'
  | 'consumer.commit.error'
  | 'consumer.connection.error'
  | 'consumer.fatal'
  /** A record filter (parallel segments) threw; the record is processed. */
  | 'consumer.filter.error'
  | 'virtual_partitions.partitioner.error'
  | 'virtual_partitions.reducer.error'
  | 'dead_letter_queue.dispatch.error'
  /** An event listener threw; the other listeners still got the event. */
  | 'event.listener.error'
  /** A share group acknowledgement could not be applied (other than a lost lock). */
  | 'share.acknowledge.error'
  /** A parallel segments partitioner threw: the record goes to segment 0 only (reported there). */
  | 'parallel_segments.partitioner.error'
  /** A parallel segments reducer threw or returned no valid segment id: segment 0 only. */
  | 'parallel_segments.reducer.error'

export interface ErrorOccurredEvent {
  type: ErrorType
  error: Error
  /** The member (or app) stopped because of it: `app.run()` rejects with this error. */
  fatal?: boolean
  consumerGroup?: string
  topic?: string
  partition?: number
  offset?: number
  /** Failed attempts so far (handler errors). */
  attempt?: number
}

/** One delivery of a share group record. */
export interface ShareRecordEvent {
  consumerGroup: string
  topic: string
  partition: number
  offset: number
  deliveryCount: number
}

export interface PartitionEventTarget {
  consumerGroup: string
  partitions: Array<{ topic: string; partition: number }>
}

/** Every event the app emits, by name. */
export interface MultilaneEvents {
  'error.occurred': ErrorOccurredEvent
  'consumer.consumed': {
    consumerGroup: string
    topic: string
    partition: number
    offset: number
    /** Handler time of the successful attempt. */
    durationMs: number
    attempts: number
  }
  'offsets.committed': {
    consumerGroup: string
    offsets: Array<{ topic: string; partition: number; offset: number; offsetMapBytes: number }>
  }
  'partitions.assigned': PartitionEventTarget
  'partitions.revoked': PartitionEventTarget & { reason: 'revoked' | 'lost' | 'closing' }
  'dead_letter_queue.dispatched': {
    consumerGroup: string
    topic: string
    partition: number
    offset: number
    deadLetterTopic: string
    attempts: number
    error: Error
  }
  /** The offset map of a partition outgrew its share of offset.metadata.max.bytes: taking new records paused. */
  'offsets.map_limit_reached': {
    consumerGroup: string
    topic: string
    partition: number
    bytes: number
    limit: number
  }
  /**
   * A partition's tracker holds `limit` offsets from its lowest unfinished record on (one record
   * is stuck, or manual offsets are not marked): the partition takes no more records until
   * that record finishes.
   */
  'offsets.window_limit_reached': {
    consumerGroup: string
    topic: string
    partition: number
    lowestUnfinished: number
    limit: number
  }
  /**
   * A committed offset map was not used: written for another offset than the one stored with
   * it (metadata copied while offsets were translated), or damaged. Records above the
   * committed offset are processed again.
   */
  'offsets.map_discarded': {
    consumerGroup: string
    topic: string
    partition: number
    committedOffset: number
    /** The offset the map was written with (undefined when missing). */
    mapBase: number | undefined
    reason: 'base_mismatch' | 'undecodable'
    error?: Error
  }
  /**
   * Once per consumer group member at start: the group protocol it speaks (`consumer`: KIP-848,
   * `classic`: JoinGroup/SyncGroup), what `groupProtocol` asked for, and why (the cluster's
   * `group.version` feature level for `auto`).
   */
  'group.protocol_chosen': {
    consumerGroup: string
    protocol: 'consumer' | 'classic'
    requested: 'auto' | 'consumer' | 'classic'
    reason: string
  }
  /** Subscribed topics that do not exist; repeated every 10 s while some are missing. */
  'topics.missing': { consumerGroup: string; topics: string[] }
  /**
   * The engine moved a partition's position on its own: `offset_reset` (the position was out of
   * range; `autoOffsetReset` applied) or `truncation` (the leader's log diverged after an
   * unclean leader election; records from `to` on are read again).
   */
  'partitions.position_reset': {
    consumerGroup: string
    topic: string
    partition: number
    from: number
    to: number
    reason: 'offset_reset' | 'truncation'
    policy?: 'earliest' | 'latest'
  }
  /**
   * A segment found another routing's fingerprint in its committed metadata: the partitioner,
   * reducer, count or merge key changed since it committed. With `onMismatch: 'refuse'` the
   * member stops with a fatal error.
   */
  'parallel_segments.fingerprint_mismatch': {
    consumerGroup: string
    segmentId: number
    segmentOrigin: string
    topic: string
    partition: number
    expected: string
    found: string
    action: 'refuse' | 'warn'
  }
  /** A share group record was released: any member may get it again, with a higher delivery count. */
  'share.released': ShareRecordEvent
  /** A share group record was rejected: archived, never delivered again (or to the broker's dead letter topic). */
  'share.rejected': ShareRecordEvent
  /** The lock of a share group record being processed here was renewed. */
  'share.lock_renewed': ShareRecordEvent & { lockDeadline: number }
  /**
   * The lock of a share group record was lost (timed out, or the broker no longer knew it): it
   * may be delivered again, to this member or another, while or after it is processed here.
   */
  'share.lock_lost': ShareRecordEvent & { reason: string }
  'statistics.emitted': {
    consumerGroup: string
    partitions: Array<{
      topic: string
      partition: number
      /**
       * Records between the member's position and the last high watermark seen; -1 when the
       * member cannot know (a share group's backlog belongs to the group: `multilane share
       * describe` shows it).
       */
      lag: number
      buffered: number
      inFlight: number
      /** The committed offset, -1 when none (always -1 in a share group: nothing is committed). */
      committed: number
      paused: boolean
      /**
       * Share groups: records this member holds locked in the partition (buffered, being
       * processed, or with an acknowledgement in flight), which its lock budget bounds.
       */
      locks?: number
    }>
  }
}

export type EventName = keyof MultilaneEvents

type Listener = (event: never) => void

/** Whether an event has listeners, kept current by the bus: for checks made per record. */
export interface ListenerFlag {
  readonly on: boolean
}

export interface EventBusOptions {
  /** Told when a listener throws (the app logs it). */
  onListenerError?(eventName: EventName, error: Error): void
}

/**
 * A typed event bus. Every listener gets every event: one that throws does not keep the
 * others from it; its failure is reported as `error.occurred` (`event.listener.error`) and to
 * `onListenerError`. `listening` lets hot paths skip building events nobody receives.
 */
export class EventBus {
  // Copied on change, so emit iterates without copying (it runs per record for some events).
  readonly #listeners = new Map<EventName, readonly Listener[]>()
  readonly #flags = new Map<EventName, { on: boolean }>()
  readonly #onListenerError: EventBusOptions['onListenerError']

  constructor(options: EventBusOptions = {}) {
    this.#onListenerError = options.onListenerError
  }

  on<K extends EventName>(name: K, listener: (event: MultilaneEvents[K]) => void): this {
    this.#listeners.set(name, [...(this.#listeners.get(name) ?? []), listener as Listener])
    this.#updateFlag(name)
    return this
  }

  off<K extends EventName>(name: K, listener: (event: MultilaneEvents[K]) => void): this {
    const list = this.#listeners.get(name) ?? []
    const i = list.lastIndexOf(listener as Listener)
    if (i >= 0) this.#listeners.set(name, [...list.slice(0, i), ...list.slice(i + 1)])
    this.#updateFlag(name)
    return this
  }

  listening(name: EventName): boolean {
    return (this.#listeners.get(name)?.length ?? 0) > 0
  }

  /**
   * A flag that follows {@link listening} for one event as listeners come and go: a property
   * read where a check runs per record (a lookup by name costs ≈ 20 ns there, twice a record).
   */
  flag(name: EventName): ListenerFlag {
    let flag = this.#flags.get(name)
    if (!flag) {
      flag = { on: this.listening(name) }
      this.#flags.set(name, flag)
    }
    return flag
  }

  #updateFlag(name: EventName): void {
    const flag = this.#flags.get(name)
    if (flag) flag.on = this.listening(name)
  }

  emit<K extends EventName>(name: K, event: MultilaneEvents[K]): void {
    const list = this.#listeners.get(name)
    if (list === undefined) return
    for (const listener of list) {
      try {
        ;(listener as (event: MultilaneEvents[K]) => void)(event)
      } catch (thrown) {
        this.#listenerFailed(name, thrown)
      }
    }
  }

  #listenerFailed(name: EventName, thrown: unknown): void {
    const cause = thrown instanceof Error ? thrown : new Error(String(thrown))
    const error = new Error(`a listener of "${name}" threw: ${cause.message}`, { cause })
    this.#onListenerError?.(name, error)
    // A failing error listener is only logged: reporting it as another error could loop.
    if (name !== 'error.occurred') this.emit('error.occurred', { type: 'event.listener.error', error })
  }
}
