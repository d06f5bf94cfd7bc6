// `npm run example:transform`: starts the local Kafka (or uses KAFKA_BOOTSTRAP_SERVERS), creates
// an input and an output topic, produces orders with app.producer, runs
// examples/transform/enrich-app.ts until every order is enriched on the output topic, and prints
// `multilane topics produce` / `groups describe` commands to try next. Exits 0 when all arrived.
import { Admin, Consumer, type Message, MessagesStreamModes } from '@platformatic/kafka'
import { startLocalKafka } from '../../src/devkafka/local-broker.ts'
import { jsonSerializer } from '../../src/index.ts'
import { BOOTSTRAP_ENV } from '../../src/kafka/bootstrap.ts'
import { enrichApp, type Order } from './enrich-app.ts'

const ORDERS = 200

async function kafka(): Promise<string> {
  const given = process.env[BOOTSTRAP_ENV]
  if (given) return given
  const { state } = await startLocalKafka({ onProgress: (m) => process.stderr.write(`local Kafka: ${m}…\n`) })
  return state.bootstrap
}

async function main(): Promise<void> {
  const bootstrap = await kafka()
  const run = Date.now().toString(36)
  const input = `transform-orders-${run}`
  const output = `transform-enriched-${run}`
  const group = `transform-${run}`
  const admin = new Admin({ clientId: 'transform-admin', bootstrapBrokers: [bootstrap] })
  await admin.createTopics({ topics: [input, output], partitions: 3, replicas: 1 })
  await admin.close()

  const app = enrichApp({ bootstrap, input, output, group })
  // The same producer seeds the input before the app starts.
  const orders = app.producer.withSerializer(jsonSerializer<Order>())
  await orders.sendBatch(
    Array.from({ length: ORDERS }, (_, i) => ({
      topic: input,
      key: `customer-${i % 20}`,
      value: { orderId: i, customer: `customer-${i % 20}`, amount: (i * 37) % 500 },
    })),
  )
  await app.start()

  // An independent reader counts what arrived on the output topic.
  const reader = new Consumer({
    clientId: 'transform-reader',
    groupId: `${group}-reader`,
    bootstrapBrokers: [bootstrap],
  })
  const stream = await reader.consume({
    topics: [output],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  })
  let received = 0
  let large = 0
  const timer = setTimeout(() => void stream.close(), 60_000)
  for await (const message of stream as AsyncIterable<Message>) {
    received++
    if ((JSON.parse(message.value.toString()) as { tier: string }).tier === 'large') large++
    if (received === ORDERS) break
  }
  clearTimeout(timer)
  await stream.close()
  await reader.close(true)
  await app.stop()
  process.stdout.write(`enriched ${received}/${ORDERS} orders (${large} large) from ${input} to ${output}\n`)
  process.stdout.write(
    `try: echo '{"key":"customer-1","value":{"orderId":1000,"customer":"customer-1","amount":300}}' | ` +
      `npx multilane topics produce ${input} --format json --bootstrap ${bootstrap}\n` +
      `     npx multilane groups describe ${group} --bootstrap ${bootstrap}\n`,
  )
  process.exitCode = received === ORDERS ? 0 : 1
}

await main()
