// multilane's public API: everything an application, a test or a tool built on multilane types.

import './node-version.ts' // first: refuses a Node.js older than engines.node, with the reason

// Group administration: members, lag, offset maps (multilane groups)
export {
  type AppGroupDescription,
  describeAppGroup,
  describeGroup,
  GroupAdminError,
  type GroupDescription,
  type GroupListing,
  type GroupMember,
  listGroups,
  type PartitionLag,
} from './admin/groups.ts'
// Parallel segments
export { ConsumerGroupNotFoundError } from './admin/segment-offsets/command.ts'
export { SegmentOffsetsError } from './admin/segment-offsets/errors.ts'
// Share group administration
export {
  configureShareGroup,
  describeShareGroup,
  ShareAdminError,
  type ShareGroupConfigs,
  type ShareGroupDescription,
  type ShareGroupMemberDescription,
  type SharePartitionDescription,
} from './admin/share.ts'
// The app and its definition DSL
export { App, createApp, type StartOptions } from './app/app.ts'
export type { ConsumerGroupBuilder, ShareGroupBuilder } from './app/app-builder.ts'
export { ConfigurationError, type ConfigurationIssue } from './app/configuration-error.ts'
export type * from './app/definition.ts'
export type { AppHealth, GroupHealth } from './app/health.ts'
export type { AppLogger, AppOptions, HealthOptions } from './app/options/app.ts'
export type { ConsumerGroupOptions } from './app/options/consumer-group.ts'
export type { DeadLetterQueueOptions } from './app/options/dead-letter-queue.ts'
export type { KafkaOptions } from './app/options/kafka.ts'
export type { ParallelSegmentsOptions } from './app/options/parallel-segments.ts'
export type { ProcessingOptions } from './app/options/processing.ts'
export type { RetryBackoffOptions, RetryOptions } from './app/options/retries.ts'
export type { ShareGroupOptions } from './app/options/share-group.ts'
export type {
  ShareOrdering,
  ShareTopicOptions,
  TopicBatchHandler,
  TopicHandlers,
  TopicOptions,
  TopicRecordHandler,
  VirtualPartitionsFor,
} from './app/options/topic.ts'
export type { TracingOptions } from './app/options/tracing.ts'
export type { VirtualPartitionsOptions } from './app/options/virtual-partitions.ts'
// The benchmark (the whole tool: `multilane/bench`)
export { BenchError, type WorkloadIssue } from './bench/errors.ts'
export { CliError } from './cli/errors.ts'
export { DevKafkaError } from './devkafka/errors.ts'
// The Java runtime and Apache Kafka jars (kafka-tools included) the local broker runs on, for
// running Kafka's own tools (e.g. ConsumerPerformance) beside it: the peer benchmarks do
export { findJava, type JavaRuntime, MIN_JAVA_MAJOR } from './devkafka/java-runtime.ts'
export { type KafkaJars, resolveKafkaJars } from './devkafka/kafka-jars.ts'
export { DEFAULT_KAFKA_VERSION, kafkaVersion } from './devkafka/kafka-version.ts'
// The local broker (development and tests)
export {
  type LocalKafkaState,
  localKafkaStatus,
  type StartLocalKafkaOptions,
  type StartLocalKafkaResult,
  type StopLocalKafkaOptions,
  type StopLocalKafkaResult,
  startLocalKafka,
  stopLocalKafka,
} from './devkafka/local-broker.ts'
export { EngineError } from './engine/errors.ts'
// The engines, for use without the app
export {
  GroupConsumer,
  type GroupConsumerEvents,
  type GroupConsumerOptions,
} from './engine/group-consumer.ts'
export type { AckListener } from './engine/share/ack-entry.ts'
export { ShareError } from './engine/share/errors.ts'
export { ShareConsumer } from './engine/share/share-consumer.ts'
export type * from './engine/share/share-consumer-types.ts'
export type {
  AcknowledgeType,
  AckOutcome,
  AckResult,
  AcquireMode,
  RecordDelivery,
  ShareRecord,
  ShareRecords,
} from './engine/share/types.ts'
export type * from './engine/types.ts'
// Errors: every class, and the catalogue of codes
export { ERROR_CODES, type ErrorCode, MultilaneError } from './errors.ts'
// Events and metrics
export type * from './instrumentation/events.ts'
export * from './instrumentation/prometheus.ts'
export { UnsupportedApiVersionError } from './kafka/api-versions.ts'
export { KafkaResponseError, MalformedResponseError } from './kafka/apis/decode.ts'
export { AuthorizationError } from './kafka/authorization.ts'
export { ClusterError } from './kafka/cluster.ts'
export type { SaslCredentials } from './kafka/connection-options.ts'
export { GroupConfigError } from './kafka/group-configs.ts'
export { UnsupportedNodeError } from './node-version.ts'
export { CommitMetadataError } from './processing/consumer-group/commit-metadata.ts'
export { OffsetMapDecodeError, OffsetMapEncodeError } from './processing/consumer-group/offset-map-codec.ts'
export { OffsetTrackerError } from './processing/consumer-group/offset-tracker.ts'
export { DLQ_HEADERS } from './processing/dead-letter-queue.ts'
export {
  custom,
  DeserializationError,
  type Deserializer,
  json,
  raw,
  string,
} from './processing/deserializers.ts'
export type { ConsumerGroupInfo } from './processing/group-info.ts'
// Records, handler context, deserializers
export type { HandlerContext } from './processing/handler-context.ts'
export { ConsumedRecord, RecordHeaders } from './processing/record.ts'
export { RetryBackoffError } from './processing/retry-backoff.ts'
export { defaultLaneReducer } from './processing/routing/reducers.ts'
// Producing (app.producer)
export {
  AppProducer,
  jsonSerializer,
  type ProducedBatch,
  type ProducedRecordMetadata,
  type ProduceHeaders,
  type ProduceRecord,
  type RawValue,
  type Serializer,
} from './producing/app-producer.ts'
export { ProducerError } from './producing/errors.ts'
export { defaultSegmentReducer, karafkaReducer } from './segments/reducers.ts'
export { segmentGroupName } from './segments/segment-names.ts'
