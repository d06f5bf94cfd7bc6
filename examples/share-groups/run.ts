// `npm run example:share-groups`: three members of one share group (KIP-932) on a topic with a
// single partition — something a consumer group cannot spread — each an app of its own (here in
// one process; in production, one per process or machine). Jobs take 20–120 ms. Failures are
// retried by redelivery (`retries.mode: 'redeliver'`: the record is released, and any member may
// take it, with a higher delivery count; the default, 'local', would retry in the same member):
// a few jobs fail once, two always fail (rejected after their retries, once a copy went to the
// dead letter topic). Prints who handled what, and every release and rejection; exits 0 when
// every job was accepted or rejected and the broker holds none unacknowledged.
// Starts the local Kafka unless KAFKA_BOOTSTRAP_SERVERS is set.
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin, Producer } from '@platformatic/kafka'
import { startLocalKafka } from '../../src/devkafka/local-broker.ts'
import { type App, createApp, describeShareGroup, string } from '../../src/index.ts'
import { BOOTSTRAP_ENV } from '../../src/kafka/bootstrap.ts'

const JOBS = 300
const MEMBERS = ['ann', 'bob', 'cid']
/** Always fail: rejected after retries.maxRetries (2), with a copy in the dead letter topic. */
const POISON = new Set([42, 199])
/** Fail on their first delivery: released, and handled by whichever member takes them next. */
const FLAKY = new Set([10, 77, 150, 260])

async function kafka(): Promise<string> {
  const given = process.env[BOOTSTRAP_ENV]
  if (given) return given
  const { state, reused } = await startLocalKafka({
    onProgress: (m) => process.stderr.write(`local Kafka: ${m}…\n`),
  })
  console.log(`Kafka ${state.version} at ${state.bootstrap} (${reused ? 'already running' : 'started now'})`)
  return state.bootstrap
}

const bootstrap = await kafka()
const run = Date.now().toString(36)
const topic = `share-example-jobs-${run}`
const deadLetterTopic = `${topic}.dlq`
const group = `share-example-${run}`
const admin = new Admin({ clientId: 'share-example', bootstrapBrokers: [bootstrap] })
await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })
await admin.createTopics({ topics: [deadLetterTopic], partitions: 1, replicas: 1 })
await admin.close()

const handledBy = new Map<string, number>(MEMBERS.map((m) => [m, 0]))
const done = new Set<number>()
const rejected = new Set<number>()
let released = 0
let failures = 0

function member(name: string): App {
  const app = createApp({ kafka: { bootstrap, clientId: `share-example-${name}` }, logger: false })
  app.shareGroup(group, (g) => {
    // Share groups start at the latest offset: read the topic from its start.
    g.options({ autoOffsetReset: 'earliest' })
    g.topic(topic, {
      deserializer: string(),
      // Small fetches (and small producer batches below): a fetch acquires whole record batches,
      // so one member would otherwise take most of a burst.
      processing: { style: 'continuous', capacity: 8, maxPollRecords: 10 },
      retries: { mode: 'redeliver', maxRetries: 2 },
      deadLetterQueue: { topic: deadLetterTopic },
      handler: async (record, ctx) => {
        await sleep(20 + Math.random() * 100)
        if (POISON.has(record.offset)) throw new Error(`${record.payload}: cannot be done`)
        if (FLAKY.has(record.offset) && record.deliveryCount === 1)
          throw new Error(`${record.payload}: try again`)
        handledBy.set(name, handledBy.get(name)! + 1)
        done.add(record.offset)
        if (record.offset % 50 === 0 || record.deliveryCount > 1)
          console.log(
            `${name}: ${record.payload} done (delivery ${record.deliveryCount}, attempt ${ctx.attempt})`,
          )
      },
    })
  })
  app.on('error.occurred', (e) => {
    if (e.type === 'consumer.handler.error') failures++
  })
  app.on('share.released', (e) => {
    released++
    console.log(`${name}: released offset ${e.offset} (delivery ${e.deliveryCount}): any member may take it`)
  })
  app.on('share.rejected', (e) => {
    rejected.add(e.offset)
    console.log(`${name}: rejected offset ${e.offset} (delivery ${e.deliveryCount}): never delivered again`)
  })
  app.on('dead_letter_queue.dispatched', (e) =>
    console.log(`${name}: offset ${e.offset} copied to ${e.deadLetterTopic}`),
  )
  app.on('partitions.assigned', () => joined.add(name))
  return app
}

const joined = new Set<string>()
const apps = MEMBERS.map(member)
await Promise.all(apps.map((a) => a.start()))
// Every member is assigned the partition (a share partition goes to each of them) before jobs come.
while (joined.size < MEMBERS.length) await sleep(50)
const producer = new Producer({ clientId: 'share-example', bootstrapBrokers: [bootstrap], idempotent: true })
for (let i = 0; i < JOBS; i += 10) {
  const messages = Array.from({ length: 10 }, (_, j) => ({
    topic,
    partition: 0,
    value: Buffer.from(`job ${i + j}`),
  }))
  await producer.send({ messages })
}
await producer.close()

const deadline = Date.now() + 120_000
while (done.size + rejected.size < JOBS && Date.now() < deadline) await sleep(100)
// Stopping flushes the last acknowledgements.
await Promise.all(apps.map((a) => a.stop()))
const description = await describeShareGroup({ bootstrap, clientId: 'share-example' }, group)
const lag = description.partitions[0]?.lag

console.log(`\n${JOBS} jobs on one partition, ${MEMBERS.length} members:`)
for (const [name, n] of handledBy) console.log(`  ${name} handled ${n}`)
console.log(`  handler failures: ${failures}; released: ${released}; rejected: ${[...rejected].join(', ')}`)
console.log(`  unacknowledged on the broker: ${lag}`)
const ok = done.size + rejected.size === JOBS && [...POISON].every((o) => rejected.has(o)) && lag === 0
console.log(ok ? 'ok: every job accepted or rejected' : 'NOT OK')
process.exitCode = ok ? 0 : 1
