// An independent check: Apache Kafka's own kafka-share-groups tool
// (org.apache.kafka.tools.consumer.group.ShareGroupCommand) describes a multilane share group
// as multilane sees it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeShareGroup } from '../../../src/admin/share.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { parseToolTable, runKafkaTool } from '../../support/kafka-tools.ts'
import {
  createShareMember,
  kafkaOptions,
  ShareWorker,
  shareGroup,
  waitForAssignment,
} from '../../support/share.ts'

const TOOL = 'org.apache.kafka.tools.consumer.group.ShareGroupCommand'

describe("Kafka's ShareGroupCommand on a multilane share group", () => {
  it('lists the multilane members with their client id, epoch and assignment, the group state and the start offsets', async () => {
    const topic = await createTopic('share-tool', 2)
    const groupId = await shareGroup('share-tool')
    const members = [0, 1].map(() =>
      createShareMember({ groupId, topics: [topic], ...kafkaOptions('multilane-tool-check') }),
    )
    await Promise.all(members.map((m) => m.consumer.start()))
    await waitForAssignment(
      members.map((m) => m.consumer),
      topic,
      2,
    )
    const workers = members.map((m) => new ShareWorker(m.consumer))
    await produceRecords(topic, 100, { partitions: 2 })
    await waitUntil(
      () =>
        workers.reduce((n, w) => n + w.applied('accept', 0).length + w.applied('accept', 1).length, 0) ===
        100,
    )
    // Wait until the broker counts every record as acknowledged.
    await waitUntil(
      async () => {
        const d = await describeShareGroup(kafkaOptions(), groupId)
        return d.partitions.length === 2 && d.partitions.every((p) => p.startOffset !== null && p.lag === 0)
      },
      { timeoutMs: 30_000, message: 'lag 0 on both partitions' },
    )
    const bootstrap = ['--bootstrap-server', bootstrapServers().join(','), '--group', groupId]

    const memberRows = parseToolTable(
      await runKafkaTool(TOOL, [...bootstrap, '--describe', '--members', '--verbose']),
      'GROUP',
    )
    assert.deepEqual(
      memberRows.map((r) => r['CONSUMER-ID']).sort(),
      members.map((m) => m.consumer.memberId).sort(),
      'the client-generated member ids',
    )
    for (const m of members) {
      const row = memberRows.find((r) => r['CONSUMER-ID'] === m.consumer.memberId)!
      assert.equal(row['CLIENT-ID'], 'multilane-tool-check')
      assert.equal(Number(row['MEMBER-EPOCH']), m.consumer.memberEpoch)
      const partitions = m.consumer
        .assignment()
        .map((tp) => tp.partition)
        .sort()
      assert.equal(row.ASSIGNMENT, `${topic}:${partitions.join(',')}`)
      assert.equal(Number(row['#PARTITIONS']), partitions.length)
    }

    const [state] = parseToolTable(
      await runKafkaTool(TOOL, [...bootstrap, '--describe', '--state', '--verbose']),
      'GROUP',
    )
    assert.equal(state?.STATE, 'Stable')
    assert.equal(Number(state?.['#MEMBERS']), 2)

    const offsets = parseToolTable(
      await runKafkaTool(TOOL, [...bootstrap, '--describe', '--offsets']),
      'GROUP',
    )
    const ours = await describeShareGroup(kafkaOptions(), groupId)
    assert.deepEqual(
      offsets.map((r) => [r.TOPIC, Number(r.PARTITION), Number(r['START-OFFSET']), Number(r.LAG)]).sort(),
      ours.partitions.map((p) => [p.topic, p.partition, p.startOffset, p.lag]).sort(),
      'start offsets and lag as multilane describes them',
    )
    assert.equal(ours.state, 'Stable')
    assert.deepEqual(
      ours.members.map((m) => m.memberId).sort(),
      members.map((m) => m.consumer.memberId).sort(),
    )
    await Promise.all(workers.map((w) => w.stop()))
  })
})
