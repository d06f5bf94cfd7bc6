// Small typed helpers for integration tests against the real broker.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin, Producer } from '@platformatic/kafka'
import { brokerDir } from '../../src/devkafka/paths.ts'
import { BOOTSTRAP_ENV } from '../../src/kafka/bootstrap.ts'

/** The cluster under test (set by test/global-setup.ts, or by the user for an external cluster). */
export function bootstrapServers(): string[] {
  const value = process.env[BOOTSTRAP_ENV] ?? runningLocalBroker()
  if (!value) {
    throw new Error(
      `${BOOTSTRAP_ENV} is not set and no local broker runs; use \`npm test\` or \`multilane kafka start\``,
    )
  }
  return value.split(',')
}

/** Lets a single test file run by hand (node --test file) against `multilane kafka start`. */
function runningLocalBroker(): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(brokerDir(), 'state.json'), 'utf8')) as { bootstrap: string })
      .bootstrap
  } catch {
    return undefined
  }
}

/** A name no other test (or earlier run) uses, so tests can run concurrently on one broker. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

export function createAdmin(): Admin {
  return new Admin({ clientId: 'multilane-test-admin', bootstrapBrokers: bootstrapServers() })
}

/** Creates a topic and returns its name (a unique one derived from `prefix`). */
export async function createTopic(
  prefix: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<string> {
  const topic = uniqueName(prefix)
  const admin = createAdmin()
  try {
    await admin.createTopics({
      topics: [topic],
      partitions,
      replicas: 1,
      configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
    })
    // Wait until the leaders are known, so the first produce/fetch does not race the creation.
    await waitUntil(
      async () => {
        const m = await admin.metadata({ topics: [topic], forceUpdate: true })
        const t = m.topics.get(topic)
        return t !== undefined && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)
      },
      { message: `topic ${topic} has leaders` },
    )
  } finally {
    await admin.close()
  }
  return topic
}

export interface ProducedRecord {
  key: string
  value: string
  partition: number
  headers: Record<string, string>
}

export interface ProduceOptions {
  partitions: number
  /** Builds record i; default: key `k<i % 100>`, value `v<i>`, header `seq=i`, partition i % partitions. */
  record?: (i: number) => ProducedRecord
  batchSize?: number
}

/** Produces `count` records (acks=all) with @platformatic/kafka's Producer; returns what was sent. */
export async function produceRecords(
  topic: string,
  count: number,
  options: ProduceOptions,
): Promise<ProducedRecord[]> {
  const build =
    options.record ??
    ((i: number) => ({
      key: `k${i % 100}`,
      value: `v${i}`,
      partition: i % options.partitions,
      headers: { seq: String(i) },
    }))
  // Idempotent: a retried send must not duplicate records, or counting tests would lie.
  const producer = new Producer({
    clientId: 'multilane-test-producer',
    bootstrapBrokers: bootstrapServers(),
    idempotent: true,
  })
  const sent: ProducedRecord[] = []
  const batchSize = options.batchSize ?? 1000
  try {
    for (let start = 0; start < count; start += batchSize) {
      const batch: ProducedRecord[] = []
      for (let i = start; i < Math.min(count, start + batchSize); i++) batch.push(build(i))
      await producer.send({
        acks: -1,
        messages: batch.map((r) => ({
          topic,
          partition: r.partition,
          key: Buffer.from(r.key),
          value: Buffer.from(r.value),
          headers: new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
        })),
      })
      sent.push(...batch)
    }
  } finally {
    await producer.close()
  }
  return sent
}

/** Committed offsets (and metadata) of a group for one topic, by partition; -1 when none. */
export async function committedOffsets(
  group: string,
  topic: string,
  partitions: number,
): Promise<Map<number, { offset: number; metadata: string | null }>> {
  const admin = createAdmin()
  try {
    const [result] = await admin.listConsumerGroupOffsets({
      groups: [
        { groupId: group, topics: [{ name: topic, partitionIndexes: [...Array(partitions).keys()] }] },
      ],
    })
    const out = new Map<number, { offset: number; metadata: string | null }>()
    for (const t of result?.topics ?? []) {
      for (const p of t.partitions)
        out.set(p.partitionIndex, { offset: Number(p.committedOffset), metadata: p.metadata ?? null })
    }
    return out
  } finally {
    await admin.close()
  }
}

/** Log-end offsets of a topic, by partition. */
export async function endOffsets(topic: string, partitions: number): Promise<Map<number, number>> {
  const admin = createAdmin()
  try {
    const listed = await admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: [...Array(partitions).keys()].map((p) => ({ partitionIndex: p, timestamp: -1n })),
        },
      ],
    })
    const out = new Map<number, number>()
    for (const t of listed) for (const p of t.partitions) out.set(p.partitionIndex, Number(p.offset))
    return out
  } finally {
    await admin.close()
  }
}

export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
  /** What was awaited, for the timeout error. */
  message?: string
}

/** Polls `condition` until it returns true; throws naming `message` after `timeoutMs` (default 30 s). */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${options.timeoutMs ?? 30_000} ms waiting for: ${options.message ?? 'condition'}`,
      )
    await sleep(options.intervalMs ?? 100)
  }
}

/** Resolves with `promise`'s value, or with `'timed out'` after `ms` (the timer does not outlive it). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<'timed out'>((resolve) => {
        timer = setTimeout(() => resolve('timed out'), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
