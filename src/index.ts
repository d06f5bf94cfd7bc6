// multilane's public API.

import './node-version.ts' // first: refuses a Node.js older than engines.node, with the reason

export { App, createApp } from './app/app.ts'
export type { ConsumerGroupBuilder } from './app/app-builder.ts'
export { ConfigurationError } from './app/configuration-error.ts'
export type * from './app/definition.ts'
export type { AppOptions } from './app/options/app.ts'
export { GroupConsumer, type GroupConsumerOptions } from './engine/group-consumer.ts'
export type * from './engine/types.ts'
export { MultilaneError } from './errors.ts'
export type * from './instrumentation/events.ts'
export * from './instrumentation/prometheus.ts'
export { DLQ_HEADERS } from './processing/dead-letter-queue.ts'
export {
  custom,
  DeserializationError,
  type Deserializer,
  json,
  raw,
  string,
} from './processing/deserializers.ts'
export type { HandlerContext } from './processing/handler-context.ts'
export { ConsumedRecord, RecordHeaders } from './processing/record.ts'
