// What an offset change from outside a group (an "admin commit": OffsetCommit v9, member epoch -1,
// empty member id) needs on a real Kafka 4.x broker, which the segments offset commands rely on:
// it creates a group that does not exist (a KIP-848 member then joins it and starts at the
// offset), it works on an empty KIP-848 group, and it is refused while the group has members.
// The metadata (offset map, routing fingerprint) is kept byte for byte.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeGroupMembers } from '../../../src/admin/segment-offsets/group-members.ts'
import { commitAsAdmin, readCommittedOffsets } from '../../../src/admin/segment-offsets/group-offsets.ts'
import { createApp } from '../../../src/app/app.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import { encodeCommitMetadata } from '../../../src/processing/consumer-group/commit-metadata.ts'
import { encodeOffsetMap } from '../../../src/processing/consumer-group/offset-map-codec.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

test('admin commits: a new group, an empty KIP-848 group, refused while members are active', async () => {
  const topic = await createTopic('admin-commit', 1)
  await produceRecords(topic, 20, { partitions: 1 })
  const group = uniqueName('admin-commit')
  const cluster = new KafkaCluster(
    resolveConnection({ bootstrap: bootstrapServers(), clientId: 'admin-commit' }),
  )
  const tp = [{ topic, partition: 0 }]
  const metadata = encodeCommitMetadata({
    offsetMap: { base: 10, token: encodeOffsetMap(10, [12, 13]) },
    routing: 'fp-test',
  })
  try {
    assert.deepEqual(await describeGroupMembers(cluster, group), {
      group,
      type: 'none',
      state: 'Dead',
      members: 0,
    })
    // 1. The group does not exist: the coordinator creates a simple (classic, empty) group.
    await commitAsAdmin(cluster, group, [{ topic, partition: 0, offset: 10, metadata }])
    assert.deepEqual(
      await readCommittedOffsets(cluster, group, tp),
      new Map([[`${topic}#0`, { offset: 10, metadata }]]),
    )
    assert.deepEqual(await describeGroupMembers(cluster, group), {
      group,
      type: 'classic',
      state: 'Empty',
      members: 0,
    })

    // 2. A KIP-848 member joins it (it becomes a consumer group) and starts at the offset, map applied.
    const handled: number[] = []
    const app = createApp({
      kafka: { bootstrap: bootstrapServers(), clientId: 'admin-commit' },
      logger: false,
    })
    app.consumerGroup(group, (g) =>
      g.topic(topic, { processing: { commitIntervalMs: 100 }, handler: (r) => void handled.push(r.offset) }),
    )
    await app.start()
    try {
      await waitUntil(() => handled.length === 8, { message: 'records 10, 11 and 14-19 handled' })
      const described = await describeGroupMembers(cluster, group)
      assert.deepEqual([described.type, described.members], ['consumer', 1])
      // 3. While it has a member, an admin commit is refused: UNKNOWN_MEMBER_ID, named.
      await assert.rejects(
        commitAsAdmin(cluster, group, [{ topic, partition: 0, offset: 0, metadata: 'ml1\u0000' }]),
        {
          code: 'OFFSETS_WRITE_FAILED',
          message: new RegExp(
            `${topic}#0 for consumer group ${group} failed: UNKNOWN_MEMBER_ID \\(the group has active members`,
          ),
        },
      )
    } finally {
      await app.stop()
    }
    assert.deepEqual(handled, [10, 11, 14, 15, 16, 17, 18, 19])

    // 4. Empty again (the member left): the admin commit is accepted.
    assert.deepEqual((await describeGroupMembers(cluster, group)).members, 0)
    const later = encodeCommitMetadata({ routing: 'fp-later' })
    await commitAsAdmin(cluster, group, [{ topic, partition: 0, offset: 3, metadata: later }])
    assert.deepEqual(
      await readCommittedOffsets(cluster, group, tp),
      new Map([[`${topic}#0`, { offset: 3, metadata: later }]]),
    )
  } finally {
    await cluster.close()
  }
})
