// `multilane topics produce <topic>`: records from stdin or --file, as text lines (--key,
// --header) or JSON lines, are on the broker as given; it prints how many it produced; a bad
// line is named (source and line number) with exit 1 and nothing produced — so is input that is
// not UTF-8; a missing topic exits 1 naming it, as does a --partition the topic does not have
// (nothing sent); a malformed flag exits 2.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { bootstrapServers, createTopic, endOffsets, uniqueName } from '../../support/kafka.ts'
import { readRecords } from '../../support/read-topic.ts'

const bin = join(import.meta.dirname, '../../../bin/multilane.js')
const dir = mkdtempSync(join(tmpdir(), 'multilane-produce-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function produce(args: string[], input: string | Buffer = '') {
  const result = spawnSync(
    process.execPath,
    [bin, 'topics', 'produce', ...args, '--bootstrap', bootstrapServers().join(',')],
    { input, encoding: 'utf8' },
  )
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

test('stdin lines with --key and repeated --header: one record per line, empty lines skipped', async () => {
  const topic = await createTopic('cli-produce-stdin', 1)
  const r = produce(
    [topic, '--key', 'user-1', '--header', 'source=cli', '--header', 'v=a=b'],
    'one\ntwo\n\nthree\n',
  )
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, new RegExp(`^produced 3 records to ${topic} on `))
  const read = await readRecords(topic, 3)
  assert.deepEqual(
    read.map((x) => [x.key, x.value, x.headers]),
    ['one', 'two', 'three'].map((v) => ['user-1', v, { source: 'cli', v: 'a=b' }]),
  )
})

test('--file with --format json: key, value (an object is sent as JSON), headers and partition per line; --json output', async () => {
  const topic = await createTopic('cli-produce-json', 3)
  const file = join(dir, 'records.jsonl')
  writeFileSync(
    file,
    [
      '{"key": "a", "value": "plain", "headers": {"h": "1"}, "partition": 2}',
      '{"key": null, "value": {"id": 7}, "partition": 1}',
      '{"value": null, "partition": 0}',
    ].join('\n'),
  )
  const r = produce([topic, '--file', file, '--format', 'json', '--header', 'from=file', '--json'])
  assert.equal(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { topic: string; produced: number; partitions: unknown[] }
  assert.equal(out.topic, topic)
  assert.equal(out.produced, 3)
  assert.deepEqual(out.partitions, [
    { partition: 0, firstOffset: 0 },
    { partition: 1, firstOffset: 0 },
    { partition: 2, firstOffset: 0 },
  ])
  const read = await readRecords(topic, 3)
  const byPartition = new Map(read.map((x) => [x.partition, x]))
  assert.deepEqual(byPartition.get(2), {
    partition: 2,
    offset: 0,
    key: 'a',
    value: 'plain',
    headers: { from: 'file', h: '1' },
  })
  assert.equal(byPartition.get(1)?.value, '{"id":7}')
  assert.equal(byPartition.get(0)?.value, '', 'a tombstone')
})

test('a bad JSON line is named with its line number, exit 1, and nothing is produced', async () => {
  const topic = await createTopic('cli-produce-bad', 1)
  const cases: Array<[string, RegExp]> = [
    [
      '{"value": "ok"}\n{"value": "x", "partition": -1}\n',
      /stdin line 2: "partition" must be an integer ≥ 0, got -1/,
    ],
    ['{"value": "ok"}\n\nnot json\n', /stdin line 3: not valid JSON/],
    ['{"key": "k"}\n', /stdin line 1: "value" is missing/],
    ['{"value": "v", "partiton": 1}\n', /stdin line 1: unknown field "partiton"/],
    ['{"value": "v", "headers": {"n": 1}}\n', /stdin line 1: header "n" must be a string, got number/],
  ]
  for (const [input, message] of cases) {
    const r = produce([topic, '--format', 'json'], input)
    assert.equal(r.code, 1, `${input}: ${r.stderr}`)
    assert.match(r.stderr, /\[INVALID_PRODUCE_RECORD\]/)
    assert.match(r.stderr, message)
    assert.match(r.stderr, /nothing was produced/)
  }
  const missingFile = produce([topic, '--file', join(dir, 'nope.txt')])
  assert.equal(missingFile.code, 1)
  assert.match(missingFile.stderr, /--file .*nope\.txt: cannot be read/)
  // The topic is still empty: a good record lands at offset 0.
  assert.equal(produce([topic], 'good\n').code, 0)
  const read = await readRecords(topic, 1)
  assert.deepEqual([read[0]!.offset, read[0]!.value], [0, 'good'])
})

test('a missing topic exits 1 naming it; malformed flags exit 2 naming the flag', () => {
  const missing = uniqueName('cli-produce-missing')
  const r = produce([missing], 'x\n')
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /\[PRODUCE_TOPIC_NOT_FOUND\]/)
  assert.match(r.stderr, new RegExp(`"${missing}" does not exist`))
  const header = produce(['t', '--header', 'novalue'])
  assert.equal(header.code, 2)
  assert.match(header.stderr, /--header.*"novalue" is not name=value/)
  const format = produce(['t', '--format', 'xml'])
  assert.equal(format.code, 2)
  assert.match(format.stderr, /--format.*xml/)
  const partition = produce(['t', '--partition', '-3'])
  assert.equal(partition.code, 2)
})

test('a line that is not valid UTF-8 exits 1 naming stdin and the line; nothing is produced', async () => {
  const topic = await createTopic('cli-produce-utf8', 1)
  const r = produce(
    [topic],
    Buffer.concat([Buffer.from('ok\r\n'), Buffer.from([0x61, 0xff, 0xfe, 0x62]), Buffer.from('\n')]),
  )
  assert.equal(r.code, 1, r.stdout)
  assert.match(r.stderr, /INVALID_PRODUCE_RECORD/)
  assert.match(r.stderr, /stdin line 2: not valid UTF-8/)
  assert.deepEqual([...(await endOffsets(topic, 1)).values()], [0])
})

test("--partition beyond the topic's partitions exits 1 naming the partition count; nothing is produced", async () => {
  const topic = await createTopic('cli-produce-partition', 2)
  const r = produce([topic, '--partition', '5'], 'one\n')
  assert.equal(r.code, 1, r.stdout)
  assert.match(r.stderr, /INVALID_PRODUCE_RECORD/)
  assert.match(r.stderr, new RegExp(`partition 5 does not exist: topic "${topic}" has 2 partitions`))
  assert.deepEqual([...(await endOffsets(topic, 2)).values()], [0, 0])
})
