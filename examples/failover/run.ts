// `npm run example:failover`: a multilane app keeps going while a Kafka broker dies under it.
// Starts a three-broker local cluster of its own (not your `multilane kafka start` broker),
// produces keyed records with a sequence number per key to a topic replicated on two brokers,
// and runs an app in continuous style with key ordering. Part-way, it SIGKILLs a broker that
// leads partitions; the controller moves those leaderships after the broker session timeout and
// the app follows them. The summary counts what arrived: every record, once, each key in order.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Admin, Producer } from '@platformatic/kafka'
import { createApp } from '../../src/app/app.ts'
import { addedBrokers, addLocalBroker } from '../../src/devkafka/added-broker.ts'
import { startLocalKafka, stopLocalKafka } from '../../src/devkafka/local-broker.ts'
import { cacheRoot } from '../../src/devkafka/paths.ts'
import { string } from '../../src/processing/deserializers.ts'

// 1 KiB values, 20,000 per partition: more than a partition's fetch buffer (8 MiB) holds, so
// records of the killed broker's partitions are still on it when it dies.
const RECORDS = 120_000
const PADDING = ' '.repeat(1000)
const KEYS = 500
const PARTITIONS = 6
const VICTIM = 3

async function main(): Promise<void> {
  const dir = join(cacheRoot(), 'failover-cluster')
  mkdirSync(dir, { recursive: true })
  const env = { ...process.env, MULTILANE_BROKER_DIR: dir }
  const say = (m: string) => process.stdout.write(`${m}\n`)
  say('starting a three-broker Apache Kafka cluster (its own, in the multilane cache)…')
  const { state } = await startLocalKafka({ env })
  while (addedBrokers(env).length < 2) await addLocalBroker({ env })
  const bootstrap = [state.bootstrap, ...addedBrokers(env).map((b) => b.bootstrap)]

  try {
    const topic = `failover-${Date.now().toString(36)}`
    const admin = new Admin({ clientId: 'failover-admin', bootstrapBrokers: bootstrap })
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 2 })
    const leadersOf = async () =>
      (await admin.metadata({ topics: [topic], forceUpdate: true })).topics
        .get(topic)!
        .partitions.map((p) => p.leader)
    let leaders = await leadersOf()
    while (leaders.some((l) => l < 0)) leaders = await leadersOf()
    say(`topic ${topic}: ${PARTITIONS} partitions, 2 replicas, leaders on brokers ${leaders.join(', ')}`)

    const producer = new Producer({
      clientId: 'failover-producer',
      bootstrapBrokers: bootstrap,
      idempotent: true,
    })
    for (let start = 0; start < RECORDS; start += 1000) {
      await producer.send({
        acks: -1,
        messages: Array.from({ length: 1000 }, (_, j) => {
          const i = start + j
          // Per key: a sequence number the handler checks for order.
          return {
            topic,
            key: Buffer.from(`key-${i % KEYS}`),
            value: Buffer.from(`${Math.floor(i / KEYS)}${PADDING}`),
          }
        }),
      })
    }
    await producer.close()
    say(`produced ${RECORDS.toLocaleString('en')} records of 1 KiB over ${KEYS} keys`)

    const seen = new Set<string>()
    const lastSeq = new Map<string, number>()
    let duplicates = 0
    let outOfOrder = 0
    const app = createApp({ kafka: { bootstrap, clientId: 'failover-app' }, logger: false })
    app.consumerGroup(`failover-${topic}`, (g) => {
      g.topic(topic, {
        deserializer: string(),
        processing: { style: 'continuous', capacity: 50, ordering: 'key' },
        handler: (record) => {
          const id = `${record.partition}:${record.offset}`
          if (seen.has(id)) duplicates++
          seen.add(id)
          const key = record.key!.toString()
          const seq = Number.parseInt(record.payload as string, 10)
          if (seq <= (lastSeq.get(key) ?? -1)) outOfOrder++
          lastSeq.set(key, seq)
        },
      })
    })
    let connectionErrors = 0
    app.on('error.occurred', (e) => {
      if (e.type === 'consumer.connection.error') connectionErrors++
    })
    const started = performance.now()
    await app.start()
    const progress = setInterval(() => say(`  handled ${seen.size.toLocaleString('en')}`), 2000)
    while (seen.size < RECORDS / 3) await new Promise((r) => setTimeout(r, 20))
    const victim = addedBrokers(env).find((b) => b.nodeId === VICTIM)!
    say(
      `SIGKILL broker ${VICTIM} (pid ${victim.pid}), leader of partitions ` +
        `${leaders.flatMap((l, p) => (l === VICTIM ? [p] : [])).join(', ')}, at ${seen.size.toLocaleString('en')} handled`,
    )
    const killedAt = performance.now()
    process.kill(victim.pid, 'SIGKILL')
    while (seen.size < RECORDS) await new Promise((r) => setTimeout(r, 20))
    const done = performance.now()
    clearInterval(progress)
    await app.stop()
    say(`leaders now on brokers ${(await leadersOf()).join(', ')}`)
    await admin.close()

    say('\nfailover summary')
    say(`  records       ${RECORDS.toLocaleString('en')} produced, ${seen.size.toLocaleString('en')} handled`)
    say(`  duplicates    ${duplicates}`)
    say(`  out of order  ${outOfOrder} (per-key sequence numbers)`)
    say(
      `  recovery      all handled ${((done - killedAt) / 1000).toFixed(1)} s after the kill (broker session timeout: 9 s)`,
    )
    say(`  connection errors reported while the broker was gone: ${connectionErrors}`)
    say(`  total         ${((done - started) / 1000).toFixed(1)} s`)
    if (seen.size !== RECORDS || outOfOrder > 0) process.exitCode = 1
  } finally {
    await stopLocalKafka({ env })
  }
}

await main()
