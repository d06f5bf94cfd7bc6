/** `g.topic(name, options)`: one consumed topic and how its records are handled. */
import { z } from 'zod'
import { type Deserializer, raw } from '../../processing/deserializers.ts'
import type { HandlerContext } from '../../processing/handler-context.ts'
import type { ConsumedRecord } from '../../processing/record.ts'
import { SHOWS_INPUT } from '../configuration-error.ts'
import type { BatchHandler, RecordHandler, TopicDefinition } from '../definition.ts'
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
  processing?: ProcessingOptions
  /** Only with `processing.ordering: 'key'`, which uses the defaults when this is omitted. */
  virtualPartitions?: VirtualPartitionsOptions
  retries?: RetryOptions
  deadLetterQueue?: DeadLetterQueueOptions
  /** The handler marks records itself with `ctx.markAsConsumed` (default false). */
  manualOffsets?: boolean
}

/**
 * What users write in `g.topic(name, options)`: exactly one of `handler` (one record at a time)
 * and `batchHandler`. The payload type `T` comes from the deserializer only.
 */
export type TopicOptions<T = Buffer | null> = TopicOptionsBase<T> &
  (
    | { handler: TopicRecordHandler<NoInfer<T>>; batchHandler?: undefined }
    | { batchHandler: TopicBatchHandler<NoInfer<T>>; handler?: undefined }
  )

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
