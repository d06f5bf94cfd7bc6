// `multilane/testing`: helpers for testing an app built on multilane against a real Kafka
// (docs/testing-your-app.md).

import '../node-version.ts' // first: refuses a Node.js older than engines.node, with the reason

export {
  createTopics,
  produce,
  type TestKafka,
  type TestRecord,
  type TopicSpec,
  testKafka,
  uniqueName,
} from './kafka.ts'
export {
  type CollectedEvent,
  type HandledRecord,
  type LagReport,
  lagOf,
  type RunUntilIdleOptions,
  type RunUntilIdleResult,
  runUntilIdle,
} from './run-until-idle.ts'
