// `multilane groups list|describe`: a group's committed offsets, log ends, lag and offset-map
// sizes are the exact numbers on the broker; a running member is shown with its client and
// assignment; --app gives one table across a group's parallel segments; --json is the data; a
// group that does not exist exits 1 naming it (a share group's name: saying so).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import {
  type AppGroupDescription,
  describeGroup,
  type GroupDescription,
  type GroupListing,
} from '../../../src/admin/groups.ts'
import { createApp } from '../../../src/app/app.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import { encodeCommitMetadata } from '../../../src/processing/consumer-group/commit-metadata.ts'
import { encodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import {
  appModule,
  commitOffsets,
  multilane,
  multilaneAsync,
  segmentGroupsOf,
} from '../../support/segments.ts'
import { shareGroup } from '../../support/share.ts'

/** describeGroup on the suite's cluster; undefined while the group does not exist. */
async function described(group: string): Promise<GroupDescription | undefined> {
  const cluster = new KafkaCluster(
    resolveConnection({ bootstrap: bootstrapServers(), clientId: 'groups-test' }),
  )
  try {
    return await describeGroup(cluster, group)
  } catch (error) {
    if ((error as { code?: string }).code === 'GROUP_NOT_FOUND') return undefined
    throw error
  } finally {
    await cluster.close()
  }
}

function withMap(committed: number, done: number[]): string {
  return encodeCommitMetadata({ offsetMap: { base: committed, token: encodeOffsetMap(committed, done) } })
}

test('describe of a group that does not exist exits 1 with GROUP_NOT_FOUND naming it', () => {
  const group = uniqueName('groups-missing')
  const r = multilane(['groups', 'describe', group])
  assert.equal(r.code, 1, r.stdout)
  assert.match(r.stderr, new RegExp(`\\[GROUP_NOT_FOUND\\] Consumer group ${group} does not exist`))
  const json = multilane(['groups', 'describe', group, '--json'])
  assert.equal(json.code, 1)
  assert.equal(json.stdout, '')
})

test('describe of a share group exits 1 saying it is a share group and what describes it', async () => {
  const topic = await createTopic('groups-share', 1)
  const group = await shareGroup('groups-share')
  const app = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'groups-share-app' },
    logger: false,
  })
  app.shareGroup(group, (g) => g.topic(topic, { handler: () => {} }))
  let assigned = false
  app.on('partitions.assigned', () => {
    assigned = true
  })
  await app.start()
  try {
    await waitUntil(() => assigned, { timeoutMs: 60_000, message: 'the share member joined' })
  } finally {
    await app.stop()
  }
  const r = multilane(['groups', 'describe', group])
  assert.equal(r.code, 1, r.stdout)
  assert.match(
    r.stderr,
    new RegExp(
      `\\[GROUP_NOT_FOUND\\] ${group} is a share group, not a consumer group \\(\`multilane share describe ${group}\``,
    ),
  )
})

test('committed offsets, log ends, lag and offset-map sizes are the exact numbers, in text and --json', async () => {
  const topic = await createTopic('groups-lag', 2)
  // 10 records on partition 0, 6 on partition 1.
  await produceRecords(topic, 16, {
    partitions: 2,
    record: (i) => ({ key: `k${i}`, value: `v${i}`, partition: i < 10 ? 0 : 1, headers: {} }),
  })
  const group = uniqueName('groups-lag')
  await commitOffsets(group, [
    { topic, partition: 0, offset: 4, metadata: withMap(4, [6, 8]) },
    { topic, partition: 1, offset: 6, metadata: '' },
  ])
  const json = multilane(['groups', 'describe', group, '--json'])
  assert.equal(json.code, 0, json.stderr)
  const d = JSON.parse(json.stdout) as GroupDescription
  assert.equal(d.group, group)
  assert.equal(d.segment, null)
  assert.deepEqual(d.members, [])
  assert.deepEqual(d.partitions, [
    { topic, partition: 0, committed: 4, logEnd: 10, lag: 6, doneAbove: 2, offsetMap: 'ok', owner: null },
    { topic, partition: 1, committed: 6, logEnd: 6, lag: 0, doneAbove: 0, offsetMap: 'none', owner: null },
  ])
  assert.equal(d.totalLag, 6)

  const text = multilane(['groups', 'describe', group])
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /total lag 6/)
  const row0 = text.stdout.split('\n').find((l) => l.startsWith(`${topic}  `) && /\s0\s/.test(l))
  assert.ok(row0, text.stdout)
  assert.deepEqual(row0.trim().split(/\s+/), [topic, '0', '4', '10', '6', '2', '-'])

  const list = multilane(['groups', 'list', '--json'])
  assert.equal(list.code, 0, list.stderr)
  const listed = (JSON.parse(list.stdout) as GroupListing[]).find((g) => g.group === group)
  assert.ok(listed, 'the group is listed')
  assert.equal(listed.state, 'Empty')
  assert.match(multilane(['groups', 'list']).stdout, new RegExp(`${group}\\s+\\w+\\s+Empty`))
})

test('a running member is shown with its client id, host and assignment, and owns its partitions', async () => {
  const topic = await createTopic('groups-members', 2)
  await produceRecords(topic, 4, { partitions: 2 })
  const group = uniqueName('groups-members')
  const app = createApp({
    kafka: { bootstrap: bootstrapServers(), clientId: 'groups-member-app' },
    logger: false,
  })
  let handled = 0
  app.consumerGroup(group, (g) => g.topic(topic, { handler: () => void handled++ }))
  await app.start()
  try {
    let d: GroupDescription | undefined
    await waitUntil(
      async () => {
        // The library call, not the CLI: a synchronous spawn would stall this process's member.
        d = await described(group)
        if (!d) return false
        return (
          handled === 4 &&
          d.members.length === 1 &&
          d.members[0]!.assignment.length === 2 &&
          d.partitions.every((p) => p.committed === 2)
        )
      },
      { timeoutMs: 90_000, message: 'one member owning both partitions, everything committed' },
    )
    assert.equal(d!.type, 'consumer')
    const member = d!.members[0]!
    assert.match(member.clientId, /^groups-member-app/)
    assert.ok(member.clientHost.length > 0)
    assert.deepEqual(member.assignment.map((a) => `${a.topic}#${a.partition}`).sort(), [
      `${topic}#0`,
      `${topic}#1`,
    ])
    assert.ok(d!.partitions.every((p) => p.owner === member.memberId && p.lag === 0))
    // Asynchronously: a synchronous spawn would stall this process's member past its session on
    // a loaded machine, and the group would no longer be the one described.
    const text = (await multilaneAsync(['groups', 'describe', group])).stdout
    assert.match(text, /consumer protocol, Stable, 1 member/)
    assert.match(text, new RegExp(`${topic}:0,1`))
  } finally {
    await app.stop()
  }
})

test('a classic-protocol member (KafkaJS) is shown with the assignment decoded from its protocol bytes', async () => {
  const topic = await createTopic('groups-classic', 3)
  const group = uniqueName('groups-classic')
  const kafka = new Kafka({
    clientId: 'groups-kafkajs',
    brokers: bootstrapServers(),
    logLevel: logLevel.NOTHING,
  })
  const consumer = kafka.consumer({ groupId: group })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async () => {} })
    let d: GroupDescription | undefined
    await waitUntil(
      async () => {
        // The library call, not the CLI: a synchronous spawn would stall this process's member.
        d = await described(group)
        if (!d) return false
        return d.state === 'Stable' && d.members.length === 1
      },
      { timeoutMs: 90_000, message: 'the KafkaJS member is in the group' },
    )
    assert.equal(d!.type, 'classic')
    const member = d!.members[0]!
    assert.equal(member.clientId, 'groups-kafkajs')
    assert.deepEqual(
      member.assignment.map((a) => `${a.topic}#${a.partition}`).sort(),
      [0, 1, 2].map((p) => `${topic}#${p}`),
    )
    assert.deepEqual(
      d!.partitions.map((p) => [p.partition, p.owner]),
      [0, 1, 2].map((p) => [p, member.memberId]),
    )
  } finally {
    await consumer.disconnect()
  }
})

test('--app describes a group across its 3 segments in one table; --json has every segment', async () => {
  const topic = await createTopic('groups-segments', 2)
  await produceRecords(topic, 12, { partitions: 2 })
  const group = uniqueName('groups-segments')
  const segments = segmentGroupsOf(group, 3)
  // Segment 0 committed everything, segment 1 half of partition 0, segment 2 never ran.
  await commitOffsets(segments[0]!, [
    { topic, partition: 0, offset: 6, metadata: '' },
    { topic, partition: 1, offset: 6, metadata: '' },
  ])
  await commitOffsets(segments[1]!, [{ topic, partition: 0, offset: 3, metadata: withMap(3, [4]) }])
  const settings = { topic, group, count: 3 }
  const json = multilane(['groups', 'describe', group, '--app', appModule, '--json'], settings)
  assert.equal(json.code, 0, json.stderr)
  const d = JSON.parse(json.stdout) as AppGroupDescription
  assert.equal(d.origin, group)
  assert.equal(d.segmentCount, 3)
  assert.deepEqual(
    d.groups.map((g) => [
      g.segment,
      g.group,
      g.type,
      g.partitions.map((p) => [p.partition, p.committed, p.logEnd, p.lag, p.doneAbove]),
    ]),
    [
      [
        0,
        segments[0],
        'classic',
        [
          [0, 6, 6, 0, 0],
          [1, 6, 6, 0, 0],
        ],
      ],
      [
        1,
        segments[1],
        'classic',
        [
          [0, 3, 6, 3, 1],
          [1, null, 6, null, 0],
        ],
      ],
      [
        2,
        segments[2],
        'none',
        [
          [0, null, 6, null, 0],
          [1, null, 6, null, 0],
        ],
      ],
    ],
  )
  assert.equal(d.totalLag, 3)

  const text = multilane(['groups', 'describe', group, '--app', appModule], settings)
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /3 parallel segments/)
  assert.match(text.stdout, /total lag 3/)
  const header = text.stdout.split('\n').filter((l) => l.startsWith('SEGMENT  GROUP'))
  assert.equal(header.length, 1, 'one partition table for all segments')
  const rows = text.stdout
    .split('\n')
    .filter((l) => segments.some((s) => l.includes(` ${s} `) && l.includes(topic)))
  assert.equal(rows.length, 6, text.stdout)
  assert.match(text.stdout, new RegExp(`${segments[2]}: never ran`))

  const unknown = multilane(['groups', 'describe', 'other', '--app', appModule], settings)
  assert.equal(unknown.code, 1)
  assert.match(
    unknown.stderr,
    new RegExp(
      `\\[CONSUMER_GROUP_NOT_FOUND\\] The app defines no consumer group other \\(its consumer groups: ${group}\\)`,
    ),
  )
})
