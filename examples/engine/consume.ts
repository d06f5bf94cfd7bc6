// `npm run example:engine`: multilane's consumer engine used directly (no processing runtime):
// join a group, take raw records, commit what was handled (with metadata), drain on revoke.
// Starts the local Kafka unless KAFKA_BOOTSTRAP_SERVERS is set.
import { Admin, Producer } from '@platformatic/kafka'
import { startLocalKafka } from '../../src/devkafka/local-broker.ts'
import { GroupConsumer, type OffsetToCommit } from '../../src/index.ts'
import { BOOTSTRAP_ENV } from '../../src/kafka/bootstrap.ts'

const bootstrap = process.env[BOOTSTRAP_ENV] ?? (await startLocalKafka()).state.bootstrap
process.stdout.write(`Kafka: ${bootstrap}\n`)
const topic = `engine-example-${Date.now().toString(36)}`

const admin = new Admin({ clientId: 'engine-example', bootstrapBrokers: [bootstrap] })
await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 })
await admin.close()
const producer = new Producer({ clientId: 'engine-example', bootstrapBrokers: [bootstrap], idempotent: true })
await producer.send({
  messages: Array.from({ length: 3000 }, (_, i) => ({
    topic,
    key: Buffer.from(`k${i % 30}`),
    value: Buffer.from(`event ${i}`),
  })),
})
await producer.close()

// The next offset to commit per partition: everything below it was handled.
const done = new Map<number, OffsetToCommit>()
const consumer = new GroupConsumer({
  bootstrap,
  clientId: 'engine-example',
  groupId: `${topic}-group`,
  topics: [topic],
  autoOffsetReset: 'earliest',
  buffer: { maxRecordsPerPartition: 500 }, // at most 500 fetched-but-untaken records per partition
  hooks: {
    onAssigned: (partitions) => {
      for (const p of partitions) console.log(`assigned ${p.topic}#${p.partition} from offset ${p.position}`)
    },
    // Fetching of these partitions already stopped; commit what was handled before letting go.
    onRevoked: async (partitions, { reason }) => {
      const offsets = partitions.flatMap((p) => done.get(p.partition) ?? [])
      if (reason !== 'lost') await consumer.commit(offsets)
      console.log(`revoked ${partitions.length} partitions (${reason})`)
    },
  },
})
consumer.on('committed', (e) =>
  console.log(`committed ${e.offsets.map((o) => `#${o.partition}@${o.offset}`).join(' ')}`),
)

await consumer.start()
let handled = 0
while (handled < 3000) {
  const batches = consumer.takeRecords(1000)
  if (batches.length === 0) {
    await consumer.waitForRecords(500)
    continue
  }
  for (const { partition, records } of batches) {
    handled += records.length // "handle": key, value and headers are raw Buffers
    const last = records.at(-1)!
    done.set(partition, { topic, partition, offset: last.offset + 1, metadata: `handled-by=${process.pid}` })
  }
  await consumer.commit([...done.values()])
}
console.log(`handled ${handled} records; buffered now: ${JSON.stringify(consumer.buffered())}`)
await consumer.close() // onRevoked('closing') commits, then the member leaves the group
