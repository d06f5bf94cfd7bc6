// multilane's committed metadata ends with a NUL (ignored by its own decoder), so Python's
// confluent-kafka (librdkafka), which reads committed metadata as a NUL-terminated string,
// reads multilane's offsets and offset maps exactly. Without the NUL it reads past the end and
// raises UnicodeDecodeError at random, and this is the most common non-Java tooling.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { GroupConsumer } from '../../../src/engine/group-consumer.ts'
import {
  decodeCommitMetadata,
  encodeCommitMetadata,
} from '../../../src/processing/consumer-group/commit-metadata.ts'
import { decodeOffsetMap, encodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import { bootstrapServers, createTopic, uniqueName, waitUntil } from '../../support/kafka.ts'
import { pythonWithConfluentKafka } from '../../support/python.ts'

const PARTITIONS = 40

test('confluent-kafka (Python) reads multilane commit metadata exactly, offset maps included', async () => {
  const python = pythonWithConfluentKafka()
  const topic = await createTopic('python-meta', PARTITIONS)
  const group = uniqueName('python-meta')
  const consumer = new GroupConsumer({
    bootstrap: bootstrapServers(),
    clientId: 'py',
    groupId: group,
    topics: [topic],
  })
  const written = new Map<number, string>()
  await consumer.start()
  try {
    await waitUntil(() => consumer.assignment().length === PARTITIONS, { message: 'all partitions assigned' })
    // Maps of many sizes, as the encoder writes them (the trailing NUL included).
    const offsets = Array.from({ length: PARTITIONS }, (_, partition) => {
      const base = 1000 + partition
      const done = Array.from({ length: 1 + partition * 40 }, (_, i) => base + 2 + 3 * i + (i % 2))
      const metadata = encodeCommitMetadata({ offsetMap: { base, token: encodeOffsetMap(base, done) } })
      written.set(partition, metadata)
      return { topic, partition, offset: base, metadata }
    })
    await consumer.commit(offsets)
  } finally {
    await consumer.close()
  }
  const lines = await run(python, [
    join(import.meta.dirname, '../../fixtures/read-committed.py'),
    bootstrapServers().join(','),
    group,
    topic,
    String(PARTITIONS),
    '5',
  ])
  assert.equal(lines.length, PARTITIONS * 5)
  for (const line of lines) {
    const { partition, offset, metadata } = JSON.parse(line) as {
      partition: number
      offset: number
      metadata: string
    }
    const ours = written.get(partition)!
    assert.equal(metadata, ours.slice(0, -1), `partition ${partition}: the string up to its NUL`)
    // What Python read decodes to the same offset map.
    const map = decodeCommitMetadata(metadata).offsetMap!
    assert.equal(map.base, offset)
    assert.deepEqual(
      decodeOffsetMap(offset, map.token),
      decodeOffsetMap(offset, decodeCommitMetadata(ours).offsetMap!.token),
    )
  }
})

function run(program: string, args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args)
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString()
    })
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`${program} exited ${code}: ${err}`)),
    )
  })
}
