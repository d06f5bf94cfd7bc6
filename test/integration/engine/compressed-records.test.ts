// Records compressed by two independent producers (librdkafka through kcat, and
// @platformatic/kafka), with every codec Kafka has, are consumed by the engine with their keys,
// values, null values and headers (null header values included), each offset once and in order.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { Producer } from '@platformatic/kafka'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { TestMember } from '../../support/engine-member.ts'
import { bootstrapServers, createTopic, uniqueName, waitUntil } from '../../support/kafka.ts'

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const
const PER_CODEC = 300

/** Partition 0: kcat's records, codec by codec; partition 1: platformatic's. */
async function produce(topic: string): Promise<void> {
  for (const codec of CODECS) {
    const lines = Array.from(
      { length: PER_CODEC },
      (_, i) => `${codec}-${i}:${i % 10 === 0 ? '' : `v-${codec}-${i}`}`,
    )
    const produced = spawnSync(
      'kcat',
      [
        '-P',
        '-b',
        bootstrapServers().join(','),
        '-t',
        topic,
        '-p',
        '0',
        '-z',
        codec,
        '-K',
        ':',
        '-Z',
        '-H',
        `codec=${codec}`,
      ],
      { input: `${lines.join('\n')}\n`, encoding: 'utf8' },
    )
    assert.equal(produced.status, 0, `kcat -P -z ${codec} failed: ${produced.stderr}`)
  }
  const producer = new Producer({
    clientId: 'multilane-test-compressed',
    bootstrapBrokers: bootstrapServers(),
  })
  try {
    for (const codec of CODECS) {
      await producer.send({
        acks: -1,
        compression: codec,
        messages: Array.from({ length: PER_CODEC }, (_, i) => ({
          topic,
          partition: 1,
          key: i % 10 === 0 ? undefined : Buffer.from(`${codec}-${i}`),
          value: Buffer.from(`v-${codec}-${i}`.repeat(1 + (i % 5))),
          headers: new Map<Buffer, Buffer>([
            [Buffer.from('codec'), Buffer.from(codec)],
            [Buffer.from('i'), Buffer.from(String(i))],
          ]),
        })),
      })
    }
  } finally {
    await producer.close()
  }
}

test('records compressed with gzip, snappy, lz4 and zstd by kcat and by platformatic are consumed whole', async () => {
  const kcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' })
  assert.equal(kcat.status, 0, 'kcat must be installed (apt-get install kcat); .ci/run installs it')
  const topic = await createTopic('compressed', 2)
  await produce(topic)
  const total = CODECS.length * PER_CODEC * 2
  const member = new TestMember({
    groupId: uniqueName('compressed'),
    topics: [topic],
    autoOffsetReset: 'earliest',
  })
  await member.start()
  try {
    await waitUntil(() => member.processed.length >= total, {
      timeoutMs: 60_000,
      message: `${total} records`,
    })
  } finally {
    await member.stop()
  }
  const byPartition = (p: number): ConsumerRecord[] => member.processed.filter((r) => r.partition === p)
  for (const p of [0, 1]) {
    assert.deepEqual(
      byPartition(p).map((r) => r.offset),
      [...Array(CODECS.length * PER_CODEC).keys()],
      `partition ${p}: every offset once, in order`,
    )
  }
  byPartition(0).forEach((r, n) => {
    const codec = CODECS[Math.floor(n / PER_CODEC)]!
    const i = n % PER_CODEC
    assert.equal(r.key?.toString(), `${codec}-${i}`)
    assert.equal(r.value?.toString() ?? null, i % 10 === 0 ? null : `v-${codec}-${i}`, `kcat ${codec} ${i}`)
    assert.deepEqual(r.headers, [[Buffer.from('codec'), Buffer.from(codec)]])
  })
  byPartition(1).forEach((r, n) => {
    const codec = CODECS[Math.floor(n / PER_CODEC)]!
    const i = n % PER_CODEC
    assert.equal(r.key?.toString() ?? null, i % 10 === 0 ? null : `${codec}-${i}`)
    assert.equal(r.value?.toString(), `v-${codec}-${i}`.repeat(1 + (i % 5)), `platformatic ${codec} ${i}`)
    assert.deepEqual(r.headers, [
      [Buffer.from('codec'), Buffer.from(codec)],
      [Buffer.from('i'), Buffer.from(String(i))],
    ])
  })
})
