/** `g.topic(name, options)`: one consumed topic and how its records are handled. */
import { z } from 'zod'
import { type Deserializer, raw } from '../../processing/deserializers.ts'
import type { HandlerContext } from '../../processing/handler-context.ts'
import type { ConsumedRecord } from '../../processing/record.ts'
import { SHOWS_INPUT } from '../configuration-error.ts'
import type { BatchHandler, Ordering, RecordHandler, TopicDefinition } from '../definition.ts'
import { type DeadLetterQueueOptions, deadLetterQueueContract } from './dead-letter-queue.ts'
import { type ProcessingOptions, processingContract, shareProcessingContract } from './processing.ts'
import { RETRY_DEFAULTS, type RetryOptions, retriesContract } from './retries.ts'
import { boolean, fn, isObject, options, topicName } from './rules.ts'
import {
  VIRTUAL_PARTITIONS_DEFAULTS,
  type VirtualPartitionsOptions,
  virtualPartitionsContract,
} from './virtual-partitions.ts'

interface TopicOptionsBase<T> {
  /** Turns value bytes into `record.payload` (default `raw()`: the bytes). Its type is the payload type. */
  deserializer?: Deserializer<T>
  retries?: RetryOptions
  deadLetterQueue?: DeadLetterQueueOptions
}

/**
 * `virtualPartitions` where the ordering `O` allows it: with `'key'`, or when the ordering is
 * only known at run time (`O` is the whole union); otherwise `undefined`, so
 * `virtualPartitions` with `ordering: 'partition'` (or no ordering) is a type error, not only
 * a ConfigurationError when the app is defined.
 */
export type VirtualPartitionsFor<O extends Ordering> = [Ordering] extends [O]
  ? VirtualPartitionsOptions | undefined
  : [O] extends ['key']
    ? VirtualPartitionsOptions | undefined
    : undefined

/** Exactly one of `handler` (one record at a time) and `batchHandler`. */
export type TopicHandlers<T> =
  | { handler: TopicRecordHandler<NoInfer<T>>; batchHandler?: undefined }
  | { batchHandler: TopicBatchHandler<NoInfer<T>>; handler?: undefined }

/**
 * What users write in `g.topic(name, options)` of a consumer group: exactly one of `handler`
 * (one record at a time) and `batchHandler`. The payload type `T` comes from the deserializer
 * only; `O` is the ordering written (`g.topic` infers it).
 */
export type TopicOptions<T = Buffer | null, O extends Ordering = Ordering> = TopicOptionsBase<T> & {
  processing?: ProcessingOptions & { ordering?: O }
  /** Only with `processing.ordering: 'key'`, which uses the defaults when this is omitted. */
  virtualPartitions?: VirtualPartitionsFor<O>
  /** The handler marks records itself with `ctx.markAsConsumed` (default false). */
  manualOffsets?: boolean
} & TopicHandlers<T>

/**
 * What users write in `g.topic(name, options)` of a share group: as a consumer group's topic,
 * without `manualOffsets`, and `processing.ordering` `'unordered'` (default) or `'key'` (a type
 * error for `'partition'`: a share group has no partition order across members).
 */
export type ShareTopicOptions<
  T = Buffer | null,
  O extends ShareOrdering = ShareOrdering,
> = TopicOptionsBase<T> & {
  processing?: ProcessingOptions & { ordering?: O }
  /** Only with `processing.ordering: 'key'`, which uses the defaults when this is omitted. */
  virtualPartitions?: [ShareOrdering] extends [O]
    ? VirtualPartitionsOptions | undefined
    : VirtualPartitionsFor<O>
  /** Not in share groups (a ConfigurationError): records are acknowledged one by one. */
  manualOffsets?: false
} & TopicHandlers<T>

/** The orderings of a share group's topics. */
export type ShareOrdering = Exclude<Ordering, 'partition'>

// Handlers as users write them: the result is ignored (a promise is awaited), so
// `async (r) => r.payload?.a` is fine although RecordHandler declares `void | Promise<void>`.
/** Handles one record; a rejection or throw is a failure that is retried. */
export type TopicRecordHandler<T> = (record: ConsumedRecord<T>, context: HandlerContext) => unknown
/** Handles a batch of records at once; a rejection or throw is a failure that is retried. */
export type TopicBatchHandler<T> = (records: ConsumedRecord<T>[], context: HandlerContext) => unknown

export const TOPIC_DEFAULTS = Object.freeze({ manualOffsets: false })

const deserializer = z.custom<Deserializer<unknown>>(
  (v) => isObject(v) && typeof v.name === 'string' && typeof v.deserialize === 'function',
  { error: 'must be a deserializer: an object with name and deserialize(), e.g. json()' },
)

/** The topic contract of consumer groups: validates `{ name, ...options }` and resolves it to a TopicDefinition. */
export const topicContract = topicContractFor('consumer')

/** The topic contract of share groups. */
export const shareTopicContract = topicContractFor('share')

function topicContractFor(kind: 'consumer' | 'share') {
  return options({
    name: topicName(),
    handler: fn<RecordHandler>().optional(),
    batchHandler: fn<BatchHandler>().optional(),
    deserializer: deserializer.optional(),
    processing: (kind === 'share' ? shareProcessingContract : processingContract).prefault({}),
    virtualPartitions: virtualPartitionsContract.optional(),
    retries: retriesContract.prefault({}),
    deadLetterQueue: deadLetterQueueContract.optional(),
    manualOffsets: boolean().default(TOPIC_DEFAULTS.manualOffsets),
  })
    .superRefine((topic, ctx) => {
      if ((topic.handler === undefined) === (topic.batchHandler === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: `exactly one of handler and batchHandler is required (got ${topic.handler ? 'both' : 'neither'})`,
          params: SHOWS_INPUT,
        })
      }
      if (topic.virtualPartitions && topic.processing.ordering !== 'key') {
        ctx.addIssue({
          code: 'custom',
          path: ['virtualPartitions'],
          message: `apply only to key ordering: set processing.ordering: 'key' (ordering is "${topic.processing.ordering}")`,
          params: SHOWS_INPUT,
        })
      }
      const dlq = topic.deadLetterQueue
      if (dlq && dlq.topic === topic.name) {
        ctx.addIssue({
          code: 'custom',
          path: ['deadLetterQueue', 'topic'],
          message: 'must differ from the consumed topic (failed records would be consumed again)',
        })
      }
      const retries = topic.retries.maxRetries
      if (dlq?.maxRetries !== undefined && retries !== undefined && dlq.maxRetries !== retries) {
        ctx.addIssue({
          code: 'custom',
          path: ['deadLetterQueue', 'maxRetries'],
          message: `conflicts with retries.maxRetries (${retries}): both set the same limit, so set only one`,
        })
      }
      if (kind === 'consumer' && topic.retries.mode !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['retries', 'mode'],
          message:
            'applies to share groups only: a consumer group retries a record in place, later records wait',
        })
      }
      if (kind === 'share' && topic.processing.ordering === 'partition') {
        ctx.addIssue({
          code: 'custom',
          path: ['processing', 'ordering'],
          message:
            "'partition' does not apply to share groups: a partition's records go to many members at once; use 'key' (a key's records in order within each member) or 'unordered' (the default)",
        })
      }
      if (kind === 'share' && topic.manualOffsets) {
        ctx.addIssue({
          code: 'custom',
          path: ['manualOffsets'],
          message:
            'applies to consumer groups only: a share group acknowledges each record when its handler returns',
        })
      }
    })
    .transform((topic): TopicDefinition => {
      const definition: TopicDefinition = {
        name: topic.name,
        deserializer: topic.deserializer ?? raw(),
        processing: topic.processing,
        virtualPartitions: topic.virtualPartitions ?? { ...VIRTUAL_PARTITIONS_DEFAULTS },
        retries: {
          maxRetries:
            topic.deadLetterQueue?.maxRetries ?? topic.retries.maxRetries ?? RETRY_DEFAULTS.maxRetries,
          backoff: topic.retries.backoff,
          mode: topic.retries.mode ?? 'local',
        },
        manualOffsets: topic.manualOffsets,
      }
      if (topic.handler) definition.handler = topic.handler
      if (topic.batchHandler) definition.batchHandler = topic.batchHandler
      if (topic.deadLetterQueue) {
        definition.deadLetterQueue = {
          topic: topic.deadLetterQueue.topic,
          independent: topic.deadLetterQueue.independent,
        }
      }
      return definition
    })
}
