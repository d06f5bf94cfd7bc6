// The topics the segments benchmark reads. Record i carries its routing value three ways — as
// its key, as header `user`, and inside its JSON value — so key-, header- and payload-based
// partitioners route identically and their costs compare on the same records:
//   keyed: user `user-<i % keys>`, over `partitions` partitions (record i on i % partitions);
//   hot:   the seed's hot-key batch: user "123" for 80 % of the records, "456" for 20 %, one partition.
// A topic that already holds exactly `records` records is reused (its name encodes the shape).
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin, Producer } from '@platformatic/kafka'
import { recordCount } from '../throughput/preload.ts'

export interface TopicShape {
  kind: 'keyed' | 'hot'
  records: number
  /** Bytes per record value (the JSON is padded to this length). */
  bytes: number
  partitions: number
  /** Distinct users (keyed topics). */
  keys: number
}

/** The routing value (user) of record `i`. */
export function userOf(shape: Pick<TopicShape, 'kind' | 'keys'>, i: number): string {
  if (shape.kind === 'hot') return i % 5 === 4 ? '456' : '123'
  return `user-${i % shape.keys}`
}

export function topicNameOf(shape: TopicShape): string {
  return shape.kind === 'hot'
    ? `bench-segments-hot-${shape.records}x${shape.bytes}`
    : `bench-segments-${shape.records}x${shape.bytes}-k${shape.keys}-p${shape.partitions}`
}

/** JSON value of `bytes` bytes (at least what the fields need): `{"user":…,"seq":…,"pad":"…"}`. */
function jsonValue(user: string, seq: number, bytes: number, pad: string): Buffer {
  const head = `{"user":"${user}","seq":${seq},"pad":"`
  const room = Math.max(0, bytes - head.length - 2)
  return Buffer.from(`${head}${pad.slice(seq % 64, (seq % 64) + room)}"}`)
}

/** Creates and fills the topic unless it already holds exactly `records` records; returns its name. */
export async function ensureTopic(
  bootstrap: string[],
  shape: TopicShape,
  log: (line: string) => void,
): Promise<string> {
  const topic = topicNameOf(shape)
  const partitions = shape.kind === 'hot' ? 1 : shape.partitions
  const admin = new Admin({ clientId: 'bench-segments-preload', bootstrapBrokers: bootstrap })
  try {
    if ((await admin.listTopics()).includes(topic)) {
      const held = await recordCount(admin, topic, partitions)
      if (held === shape.records) {
        log(`topic ${topic} already holds ${held} records; not producing`)
        return topic
      }
      log(`topic ${topic} holds ${held} of ${shape.records} records; recreating it`)
      await admin.deleteTopics({ topics: [topic] })
      while ((await admin.listTopics()).includes(topic)) await sleep(200)
    }
    for (let tries = 0; ; tries++) {
      try {
        await admin.createTopics({ topics: [topic], partitions, replicas: 1 })
        break
      } catch (error) {
        if (tries > 100) throw error
        await sleep(500)
      }
    }
    for (;;) {
      const t = (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)
      if (t && t.partitionsCount === partitions && t.partitions.every((p) => p.leader >= 0)) break
      await sleep(200)
    }
    log(`producing ${shape.records} records of ${shape.bytes} bytes to ${topic}`)
    const started = performance.now()
    await produce(bootstrap, topic, shape, partitions)
    const held = await recordCount(admin, topic, partitions)
    if (held !== shape.records)
      throw new Error(`topic ${topic} holds ${held} records, expected ${shape.records}`)
    log(`preloaded ${topic} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    return topic
  } finally {
    await admin.close()
  }
}

async function produce(
  bootstrap: string[],
  topic: string,
  shape: TopicShape,
  partitions: number,
): Promise<void> {
  const pad = 'x'.repeat(shape.bytes + 64)
  const perSend = Math.max(partitions, Math.floor((partitions * 512 * 1024) / (shape.bytes + 96)))
  const producer = new Producer({
    clientId: 'bench-segments-preload',
    bootstrapBrokers: bootstrap,
    // A send retried after a slow response wrote its records twice on a loaded broker (120
    // records became 180); the idempotent producer's retries cannot (it implies acks=all).
    idempotent: true,
    timeout: 60_000,
  })
  let next = 0
  const sender = async () => {
    while (next < shape.records) {
      const from = next
      const to = Math.min(shape.records, from + perSend)
      next = to
      const messages = []
      for (let i = from; i < to; i++) {
        const user = userOf(shape, i)
        messages.push({
          topic,
          partition: i % partitions,
          key: Buffer.from(user),
          value: jsonValue(user, i, shape.bytes, pad),
          headers: new Map([[Buffer.from('user'), Buffer.from(user)]]),
        })
      }
      await producer.send({ messages })
    }
  }
  try {
    await Promise.all(Array.from({ length: 4 }, sender))
  } finally {
    await producer.close()
  }
}
