import { EventEmitter } from 'node:events'

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

export interface ErrorOccurredEvent {
  type: ErrorType
  error: Error
  consumerGroup?: string
  topic?: string
  partition?: number
  offset?: number
  /** Failed attempts so far (handler errors). */
  attempt?: number
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
  'statistics.emitted': {
    consumerGroup: string
    partitions: Array<{
      topic: string
      partition: number
      lag: number
      buffered: number
      inFlight: number
      committed: number
      paused: boolean
    }>
  }
}

export type EventName = keyof MultilaneEvents

/** A typed event emitter; `listening` lets hot paths skip building events nobody receives. */
export class EventBus {
  readonly #emitter = new EventEmitter()

  on<K extends EventName>(name: K, listener: (event: MultilaneEvents[K]) => void): this {
    this.#emitter.on(name, listener)
    return this
  }

  off<K extends EventName>(name: K, listener: (event: MultilaneEvents[K]) => void): this {
    this.#emitter.off(name, listener)
    return this
  }

  listening(name: EventName): boolean {
    return this.#emitter.listenerCount(name) > 0
  }

  /** Emits; a throwing listener is reported as an error event, never breaks processing. */
  emit<K extends EventName>(name: K, event: MultilaneEvents[K]): void {
    if (this.#emitter.listenerCount(name) === 0) return
    try {
      this.#emitter.emit(name, event)
    } catch (error) {
      if (name !== 'error.occurred') {
        this.emit('error.occurred', { type: 'consumer.handler.error', error: error as Error })
      }
    }
  }
}
