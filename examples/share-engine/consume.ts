// `node examples/share-engine/consume.ts`: multilane's share-group member (KIP-932) used directly
// (no processing runtime): two members share one partition, each record is acknowledged on its
// own as soon as it is done, whichever fetch it came from; one record is released once (it comes
// back with delivery count 2) and one is rejected (never delivered again).
// Starts the local Kafka unless KAFKA_BOOTSTRAP_SERVERS is set.
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin, Producer } from '@platformatic/kafka'
import { configureShareGroup, describeShareGroup } from '../../src/admin/share.ts'
import { startLocalKafka } from '../../src/devkafka/local-broker.ts'
import { ShareConsumer } from '../../src/engine/share/share-consumer.ts'
import type { ShareRecord } from '../../src/engine/share/types.ts'
import { BOOTSTRAP_ENV } from '../../src/kafka/bootstrap.ts'

const bootstrap = process.env[BOOTSTRAP_ENV] ?? (await startLocalKafka()).state.bootstrap
const topic = `share-example-${Date.now().toString(36)}`
const groupId = `${topic}-jobs`
const admin = new Admin({ clientId: 'share-example', bootstrapBrokers: [bootstrap] })
await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })
await admin.close()
// Share groups start at the latest offset unless told otherwise.
await configureShareGroup({ bootstrap, clientId: 'share-example' }, groupId, { autoOffsetReset: 'earliest' })
const producer = new Producer({ clientId: 'share-example', bootstrapBrokers: [bootstrap] })
await producer.send({
  messages: Array.from({ length: 300 }, (_, i) => ({ topic, partition: 0, value: Buffer.from(`job ${i}`) })),
})
await producer.close()

const accepted = new Set<number>()
async function handle(member: ShareConsumer, name: string, record: ShareRecord): Promise<void> {
  await sleep(Math.random() * 20) // records finish in any order
  if (record.offset === 7 && record.deliveryCount === 1) {
    await member.acknowledge(record, 'release') // give it back: any member may get it again
    console.log(`${name}: released offset 7`)
    return
  }
  const type = record.offset === 13 ? 'reject' : 'accept'
  const result = await member.acknowledge(record, type)
  if (result.outcome === 'ok' && type === 'accept') accepted.add(record.offset)
  if (record.deliveryCount > 1 || type === 'reject')
    console.log(
      `${name}: ${type} offset ${record.offset} (delivery ${record.deliveryCount}): ${result.outcome}`,
    )
}

const members = ['a', 'b'].map((name) => ({
  name,
  consumer: new ShareConsumer({ bootstrap, clientId: `share-example-${name}`, groupId, topics: [topic] }),
}))
await Promise.all(members.map((m) => m.consumer.start()))
await Promise.all(
  members.map(async ({ name, consumer }) => {
    let taken = 0
    while (accepted.size < 299) {
      await consumer.waitForRecords(200)
      for (const { records } of consumer.takeRecords(100)) {
        taken += records.length
        for (const record of records) void handle(consumer, name, record)
      }
    }
    console.log(`member ${name} processed ${taken} records`)
  }),
)
for (const { consumer } of members) await consumer.flush()
const description = await describeShareGroup({ bootstrap, clientId: 'share-example' }, groupId)
console.log(`group ${groupId}: ${description.state}, lag ${description.partitions[0]?.lag}`)
await Promise.all(members.map((m) => m.consumer.close()))
