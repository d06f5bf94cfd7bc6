// An app module for `multilane run` on a Kafka 3.x cluster: the consumer group speaks the classic
// group protocol (JoinGroup/SyncGroup) with the cooperative-sticky assignor, so it can share its
// group with Java or librdkafka consumers, and each process keeps its partitions across a quick
// restart (static membership). See docs/classic-protocol.md.
//
//   npx multilane kafka start --version 3.9.1
//   npx multilane topics create orders --partitions 6
//   seq 1 1000 | npx multilane topics produce orders
//   INSTANCE=worker-a npx multilane run examples/classic/kafka-3-app.ts
//
// 'auto' (the default) would choose classic on 3.9 too; 'classic' says so on any cluster.
import { createApp } from '../../src/index.ts'

const env = process.env
const app = createApp({ kafka: { clientId: 'orders-classic' }, groupProtocol: 'classic' })

app.on('group.protocol_chosen', (e) => console.log(`${e.consumerGroup}: ${e.protocol} (${e.reason})`))

app.consumerGroup(env.GROUP ?? 'orders-classic', (g) => {
  g.options({
    ...(env.INSTANCE ? { groupInstanceId: env.INSTANCE } : {}),
    sessionTimeoutMs: 30_000,
    heartbeatIntervalMs: 3000,
    assignors: ['cooperative-sticky'],
  })
  g.topic(env.TOPIC ?? 'orders', {
    processing: { style: 'continuous', capacity: 50, ordering: 'key' },
    handler: async (record) => {
      console.log(`${record.topic}#${record.partition}@${record.offset} ${record.value?.toString() ?? ''}`)
    },
  })
})

export default app
