// `npm run example`: starts the local Kafka (or uses KAFKA_BOOTSTRAP_SERVERS), produces a keyed
// workload, runs examples/quickstart/orders-app.ts until everything is handled, and prints a
// summary. Exits 0 when every record was handled or dead-lettered.
import { Admin, Producer } from '@platformatic/kafka'
import hdr from 'hdr-histogram-js'
import { startLocalKafka } from '../../src/devkafka/local-broker.ts'
import { BOOTSTRAP_ENV } from '../../src/kafka/bootstrap.ts'
import { type Order, ordersApp } from './orders-app.ts'

const RECORDS = Number(process.env.QUICKSTART_RECORDS ?? 3000)
const CUSTOMERS = 300
const PARTITIONS = 6

/** KAFKA_BOOTSTRAP_SERVERS, else the local broker (started or reused); says which, and where. */
async function kafka(): Promise<string> {
  const given = process.env[BOOTSTRAP_ENV]
  if (given) {
    process.stdout.write(`Kafka: ${given} (from ${BOOTSTRAP_ENV})\n`)
    return given
  }
  const { state, reused } = await startLocalKafka({
    onProgress: (m) => process.stderr.write(`local Kafka: ${m}…\n`),
  })
  process.stdout.write(
    `Kafka: ${state.bootstrap} (the local Apache Kafka ${state.version}, ` +
      `${reused ? `already running since ${state.startedAt}` : 'started now'}, in ${state.dir}; ` +
      '`npx multilane kafka stop` stops it)\n',
  )
  return state.bootstrap
}

/**
 * Waits until every topic just created has a leader for each partition: a creation returns
 * before the metadata shows the topic (on a cold broker, seconds before), and the app's start
 * checks that its dead letter topic exists.
 */
async function topicsReady(admin: Admin, topics: Record<string, number>): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const metadata = await admin
      .metadata({ topics: Object.keys(topics), forceUpdate: true })
      .catch(() => undefined)
    const ready = Object.entries(topics).every(([name, partitions]) => {
      const t = metadata?.topics.get(name)
      return t !== undefined && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)
    })
    if (ready) return
    if (Date.now() > deadline)
      throw new Error(`topics ${Object.keys(topics).join(', ')} have no leaders after 30 s`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function main(): Promise<void> {
  const bootstrap = await kafka()
  const run = Date.now().toString(36)
  const topic = `quickstart-orders-${run}`
  const deadLetterTopic = `${topic}.dlq`
  const admin = new Admin({ clientId: 'quickstart-admin', bootstrapBrokers: [bootstrap] })
  await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 })
  await admin.createTopics({ topics: [deadLetterTopic], partitions: 1, replicas: 1 })
  await topicsReady(admin, { [topic]: PARTITIONS, [deadLetterTopic]: 1 })
  await admin.close()

  let flaky = 0
  let poison = 0
  const producer = new Producer({
    clientId: 'quickstart-producer',
    bootstrapBrokers: [bootstrap],
    idempotent: true,
  })
  const orders: Order[] = []
  for (let i = 0; i < RECORDS; i++) {
    const kind = i % 157 === 0 ? 'poison' : i % 53 === 0 ? 'flaky' : 'ok'
    if (kind === 'poison') poison++
    if (kind === 'flaky') flaky++
    orders.push({ orderId: i, customer: `customer-${i % CUSTOMERS}`, amount: (i * 37) % 500, kind })
  }
  const latency = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
  })
  let handled = 0
  let retries = 0
  let deadLettered = 0
  const app = ordersApp({
    bootstrap,
    topic,
    deadLetterTopic,
    group: `quickstart-${run}`,
    onStart: (ms) => latency.recordValue(Math.max(1, ms)),
    onDone: () => handled++,
  })
  app.on('error.occurred', (e) => {
    if (e.type === 'consumer.handler.error') retries++
    else process.stderr.write(`\n${e.type}: ${e.error.message}\n`)
  })
  app.on('dead_letter_queue.dispatched', () => deadLettered++)

  const progress = setInterval(
    () => {
      const line = `handled ${handled + deadLettered}/${RECORDS}  retries ${retries}  dlq ${deadLettered}`
      process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`)
    },
    process.stderr.isTTY ? 250 : 2000,
  )
  const consumeStart = Date.now()
  await app.start()
  // Produce while the app runs, at a steady ~800 records/s, so end-to-end latency shows how
  // long records wait before a handler starts on them.
  for (let i = 0; i < orders.length; i += 80) {
    await producer.send({
      messages: orders.slice(i, i + 80).map((o) => ({
        topic,
        key: Buffer.from(o.customer),
        value: Buffer.from(JSON.stringify(o)),
      })),
    })
    await new Promise((r) => setTimeout(r, 100))
  }
  const producedSeconds = (Date.now() - consumeStart) / 1000
  await producer.close()
  while (handled + deadLettered < RECORDS) await new Promise((r) => setTimeout(r, 50))
  const seconds = (Date.now() - consumeStart) / 1000
  clearInterval(progress)
  await app.stop()

  process.stdout.write(
    `\nquickstart summary\n` +
      `  records          ${RECORDS} (${flaky} flaky, ${poison} poison)\n` +
      `  handled          ${handled}, dead-lettered ${deadLettered} → ${deadLetterTopic}\n` +
      `  retries          ${retries}\n` +
      `  throughput       ${Math.round(RECORDS / seconds)} records/s (${seconds.toFixed(1)} s, capacity 200, key ordering; ` +
      `the producer sent for ${producedSeconds.toFixed(1)} s, so consumption kept pace)\n` +
      `  end-to-end       p50 ${latency.getValueAtPercentile(50)} ms, p99 ${latency.getValueAtPercentile(99)} ms, ` +
      `max ${latency.maxValue} ms (processing start − publish time)\n`,
  )
  if (deadLettered !== poison || handled !== RECORDS - poison) {
    process.stderr.write(`unexpected counts: handled ${handled}, dead-lettered ${deadLettered}\n`)
    process.exitCode = 1
  }
}

await main()
