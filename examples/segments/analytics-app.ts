// The app of the parallel segments example: consumer group "analytics" split into 3 segments
// by the `user` header (no payload is decoded to route a record). Each segment is a Kafka group
// of its own (`analytics-…-parallel-0..2`); a process runs the segments it is given:
//
//   app.run({ segments: [0] })                                   in code, or
//   npx multilane run examples/segments/analytics-app.ts --segments 0   (the module's default export)
//
// Configured from the environment so that both ways find the same topic:
// KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:9092), SEGMENTS_EXAMPLE_TOPIC, SEGMENTS_EXAMPLE_GROUP.
import { writeSync } from 'node:fs'
import { createApp, json } from '../../src/index.ts'

export interface PageView {
  user: string
  page: string
  seq: number
}

export const SEGMENTS = 3

const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:9092'
const topic = process.env.SEGMENTS_EXAMPLE_TOPIC ?? 'segments-example-page-views'
const group = process.env.SEGMENTS_EXAMPLE_GROUP ?? 'analytics'

const app = createApp({ kafka: { bootstrap, clientId: 'segments-example' }, logger: false })

app.consumerGroup(group, (g) => {
  g.parallelSegments({
    count: SEGMENTS,
    // Headers and keys are read without deserializing the value: the fast path.
    partitioner: (record) => record.headers.get('user'),
  })
  g.topic(topic, {
    deserializer: json<PageView>(),
    // Within its segment, each user's views run in order; users run side by side.
    processing: { style: 'continuous', capacity: 50, ordering: 'key' },
    virtualPartitions: { partitioner: (record) => record.headers.get('user'), maxPartitions: 16 },
    handler: (record, ctx) => {
      const view = record.payload!
      // One line per record: which process and segment handled which user's view.
      writeSync(
        1,
        `${JSON.stringify({ pid: process.pid, segment: ctx.consumerGroup.segmentId, group: ctx.consumerGroup.name, user: view.user, seq: view.seq })}\n`,
      )
    },
  })
})

export default app
