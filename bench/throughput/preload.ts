// Preloads the benchmark topic: `records` records (keys `k<i>`, values `bytes` long, record i on
// partition i % partitions) produced with @platformatic/kafka's Producer in large batches with
// several sends in flight. A topic that already holds exactly `records` records is reused.
//
//   node_modules/.bin/node bench/throughput/preload.ts [--records N] [--bytes N] [--partitions N]
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin, Producer } from '@platformatic/kafka'
import { ensureBroker } from './broker.ts'
import { runCli } from './flags.ts'
import { TOPIC_FLAGS, type TopicParams, topicName, topicParams } from './params.ts'

export interface PreloadResult {
  topic: string
  /** Records in the topic (always `params.records` on success). */
  records: number
  /** False when the topic already held every record and nothing was produced. */
  produced: boolean
  ms: number
}

/** Bytes of record values per partition in one produce request (well under `message.max.bytes`). */
const PARTITION_BATCH_BYTES = 768 * 1024
/** Produce requests in flight at once. */
const CONCURRENT_SENDS = 4
/** Distinct value start offsets: values are windows into one random buffer made once. */
const VALUE_POOL_SPREAD = 64 * 1024

export async function preloadTopic(
  bootstrap: string[],
  params: TopicParams,
  log: (line: string) => void = () => {},
): Promise<PreloadResult> {
  const topic = topicName(params)
  const started = performance.now()
  const admin = new Admin({ clientId: 'bench-throughput-preload', bootstrapBrokers: bootstrap })
  try {
    if ((await admin.listTopics()).includes(topic)) {
      const partitions = await partitionCount(admin, topic)
      const held = partitions === params.partitions ? await recordCount(admin, topic, partitions) : -1
      if (held === params.records) {
        log(`topic ${topic} already holds ${held} records; not producing`)
        return { topic, records: held, produced: false, ms: performance.now() - started }
      }
      log(
        held === -1
          ? `topic ${topic} has ${partitions} partitions, expected ${params.partitions}; recreating it`
          : `topic ${topic} holds ${held} of ${params.records} records (an interrupted preload?); recreating it`,
      )
      await deleteTopic(admin, topic)
    }
    await createTopic(admin, topic, params.partitions)
    log(
      `producing ${params.records} records of ${params.bytes} bytes to ${topic} (${params.partitions} partitions)`,
    )
    await produce(bootstrap, topic, params, log)
    const held = await recordCount(admin, topic, params.partitions)
    if (held !== params.records) {
      throw new Error(`after preloading, topic ${topic} holds ${held} records, expected ${params.records}`)
    }
    const ms = performance.now() - started
    log(`preloaded ${held} records in ${(ms / 1000).toFixed(1)} s`)
    return { topic, records: held, produced: true, ms }
  } finally {
    await admin.close()
  }
}

async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
  return metadata.topics.get(topic)?.partitionsCount ?? 0
}

/** Records currently in the topic: the sum over partitions of log-end minus log-start offset. */
export async function recordCount(admin: Admin, topic: string, partitions: number): Promise<number> {
  const list = async (timestamp: bigint) => {
    const listed = await admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: [...Array(partitions).keys()].map((p) => ({ partitionIndex: p, timestamp })),
        },
      ],
    })
    const out = new Map<number, bigint>()
    for (const t of listed) for (const p of t.partitions) out.set(p.partitionIndex, p.offset)
    return out
  }
  const [earliest, latest] = [await list(-2n), await list(-1n)]
  let total = 0
  for (let p = 0; p < partitions; p++) {
    const start = earliest.get(p)
    const end = latest.get(p)
    if (start === undefined || end === undefined) throw new Error(`no offsets listed for ${topic}-${p}`)
    total += Number(end - start)
  }
  return total
}

async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas: 1 })
      break
    } catch (error) {
      // A deletion just issued may still be in progress (TOPIC_ALREADY_EXISTS): retry for a while.
      if (Date.now() > deadline) throw error
      await sleep(500)
    }
  }
  // Wait until every partition has a leader, so the first produce does not race the creation.
  while (Date.now() < deadline) {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    const t = metadata.topics.get(topic)
    if (t && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)) return
    await sleep(200)
  }
  throw new Error(`topic ${topic}: partitions have no leader after 60 s`)
}

async function deleteTopic(admin: Admin, topic: string): Promise<void> {
  await admin.deleteTopics({ topics: [topic] })
  const deadline = Date.now() + 60_000
  while ((await admin.listTopics()).includes(topic)) {
    if (Date.now() > deadline) throw new Error(`topic ${topic} still listed 60 s after deleting it`)
    await sleep(200)
  }
}

async function produce(
  bootstrap: string[],
  topic: string,
  { records, bytes, partitions }: TopicParams,
  log: (line: string) => void,
): Promise<void> {
  const pool = randomBytes(bytes + VALUE_POOL_SPREAD)
  const perPartition = Math.max(1, Math.floor(PARTITION_BATCH_BYTES / (bytes + 64)))
  const perSend = perPartition * partitions
  const producer = new Producer({
    clientId: 'bench-throughput-preload',
    bootstrapBrokers: bootstrap,
    // A send retried after a slow response wrote its records twice on a loaded broker (120
    // records became 180); the idempotent producer's retries cannot (it implies acks=all).
    idempotent: true,
    timeout: 60_000,
  })
  let next = 0
  let done = 0
  let reported = 0
  const sender = async () => {
    while (next < records) {
      const from = next
      const to = Math.min(records, from + perSend)
      next = to
      const messages = []
      for (let i = from; i < to; i++) {
        const at = (i * 7919) % VALUE_POOL_SPREAD
        messages.push({
          topic,
          partition: i % partitions,
          key: Buffer.from(`k${i}`),
          value: pool.subarray(at, at + bytes),
        })
      }
      await producer.send({ messages })
      done += to - from
      if (done - reported >= records / 10) {
        reported = done
        log(`  produced ${done} / ${records}`)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: CONCURRENT_SENDS }, sender))
  } finally {
    await producer.close()
  }
}

if (import.meta.main) {
  await runCli('preload.ts', TOPIC_FLAGS, process.argv.slice(2), async (flags) => {
    const params = topicParams(flags)
    const log = (line: string) => process.stderr.write(`${line}\n`)
    const broker = await ensureBroker(log)
    const result = await preloadTopic(broker.bootstrap, params, log)
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return 0
  })
}
