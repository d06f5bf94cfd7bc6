// An independent client (Debian's kcat, librdkafka) produces to the local broker and multilane's
// side reads the records back: proof that the broker is a normal Kafka, not something shaped
// around our own client.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { bootstrapServers, createTopic } from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'

test('records produced by kcat (librdkafka) are read back with keys, values and headers', async () => {
  const kcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' })
  assert.equal(kcat.status, 0, 'kcat must be installed (apt-get install kcat); .ci/run installs it')

  const topic = await createTopic('kcat', 2)
  const lines: string[] = []
  for (let i = 0; i < 200; i++) lines.push(`key-${i}:value-${i}`)
  for (const partition of [0, 1]) {
    const produced = spawnSync(
      'kcat',
      [
        '-P',
        '-b',
        bootstrapServers().join(','),
        '-t',
        topic,
        '-p',
        String(partition),
        '-K',
        ':',
        '-H',
        `origin=kcat-${partition}`,
      ],
      { input: `${lines.filter((_, i) => i % 2 === partition).join('\n')}\n`, encoding: 'utf8' },
    )
    assert.equal(produced.status, 0, `kcat -P failed: ${produced.stderr}`)
  }

  const received = await readRecords(topic, 200)
  assert.equal(received.length, 200)
  for (const r of received) {
    const i = Number(r.key.slice('key-'.length))
    assert.equal(r.value, `value-${i}`)
    assert.equal(r.partition, i % 2)
    assert.deepEqual(r.headers, { origin: `kcat-${r.partition}` })
  }
  for (const partition of [0, 1]) {
    const offsets = received.filter((r) => r.partition === partition).map((r) => r.offset)
    assert.deepEqual(offsets, [...Array(100).keys()], `partition ${partition} offsets 0..99 in order`)
  }
})
