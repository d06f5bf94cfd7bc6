// Kafka for an app's own tests: the cluster to use (KAFKA_BOOTSTRAP_SERVERS, else the local
// broker, started or reused), topics created and ready, records produced.
import { randomUUID } from 'node:crypto'
import { Admin, Producer } from '@platformatic/kafka'
import { startLocalKafka } from '../devkafka/local-broker.ts'
import { BOOTSTRAP_ENV, formatBootstrap, parseBootstrap } from '../kafka/bootstrap.ts'

/** Where `testKafka()` found the cluster. */
export interface TestKafka {
  /** `host:port[,host:port…]`: pass it to `createApp({ kafka: { bootstrap } })`. */
  bootstrap: string
  /** `env`: KAFKA_BOOTSTRAP_SERVERS; `local`: the local broker (`multilane kafka start`), started or reused. */
  source: 'env' | 'local'
}

/**
 * The cluster for tests: KAFKA_BOOTSTRAP_SERVERS when set, else the local single-node Apache
 * Kafka (Java ≥ 17 and Maven, see docs/local-kafka.md), started when it does not run and left
 * running for the next test run (`npx multilane kafka stop` stops it).
 */
export async function testKafka(
  options: { onProgress?: (message: string) => void } = {},
): Promise<TestKafka> {
  const given = process.env[BOOTSTRAP_ENV]
  if (given) return { bootstrap: formatBootstrap(parseBootstrap(given, BOOTSTRAP_ENV)), source: 'env' }
  const { state } = await startLocalKafka(options.onProgress ? { onProgress: options.onProgress } : {})
  return { bootstrap: state.bootstrap, source: 'local' }
}

/** A name no other test run uses: `<prefix>-<random>` (topics and groups of concurrent tests never collide). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

function brokers(bootstrap: string | readonly string[]): string[] {
  return parseBootstrap(bootstrap).map((b) => `${b.host}:${b.port}`)
}

/** A topic to create: its partition count, or the count and topic configs. */
export type TopicSpec = number | { partitions: number; configs?: Record<string, string> }

/**
 * Creates topics (`{ name: partitions }`) and waits until every partition has a leader, so a
 * produce or an app start right after does not race the creation. A topic that exists already is
 * an error (TOPIC_ALREADY_EXISTS from the broker): name test topics with `uniqueName`.
 */
export async function createTopics(
  bootstrap: string | readonly string[],
  topics: Record<string, TopicSpec>,
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const admin = new Admin({ clientId: 'multilane-testing', bootstrapBrokers: brokers(bootstrap) })
  try {
    for (const [name, spec] of Object.entries(topics)) {
      const { partitions, configs = {} } = typeof spec === 'number' ? { partitions: spec } : spec
      await admin.createTopics({
        topics: [name],
        partitions,
        replicas: 1,
        configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
      })
    }
    const timeoutMs = options.timeoutMs ?? 30_000
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const metadata = await admin
        .metadata({ topics: Object.keys(topics), forceUpdate: true })
        .catch(() => undefined)
      const waiting = Object.entries(topics).filter(([name, spec]) => {
        const t = metadata?.topics.get(name)
        const partitions = typeof spec === 'number' ? spec : spec.partitions
        return !(t && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0))
      })
      if (waiting.length === 0) return
      if (Date.now() > deadline) {
        throw new Error(
          `createTopics: ${waiting.map(([n]) => n).join(', ')} had no leader for every partition within ${timeoutMs} ms`,
        )
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  } finally {
    await admin.close()
  }
}

/** A record for `produce`: strings and Buffers are sent as they are, other values as JSON. */
export interface TestRecord {
  key?: string | Buffer | null
  value: unknown
  headers?: Record<string, string>
  /** Default: chosen by the producer's partitioner (from the key when there is one). */
  partition?: number
}

function bytes(value: unknown): Buffer | undefined {
  if (value === null || value === undefined) return undefined
  if (Buffer.isBuffer(value)) return value
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))
}

/** Produces `records` to `topic` (idempotent, acknowledged by all replicas) and resolves once all are written. */
export async function produce(
  bootstrap: string | readonly string[],
  topic: string,
  records: readonly TestRecord[],
): Promise<void> {
  const producer = new Producer({
    clientId: 'multilane-testing',
    bootstrapBrokers: brokers(bootstrap),
    idempotent: true,
  })
  try {
    for (let i = 0; i < records.length; i += 500) {
      await producer.send({
        messages: records.slice(i, i + 500).map((r) => {
          const key = bytes(r.key)
          const value = bytes(r.value)
          return {
            topic,
            ...(key === undefined ? {} : { key }),
            ...(value === undefined ? {} : { value }),
            ...(r.partition === undefined ? {} : { partition: r.partition }),
            ...(r.headers
              ? {
                  headers: new Map(
                    Object.entries(r.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]),
                  ),
                }
              : {}),
          }
        }),
      })
    }
  } finally {
    await producer.close()
  }
}
