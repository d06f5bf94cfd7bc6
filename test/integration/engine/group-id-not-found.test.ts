// GROUP_ID_NOT_FOUND from a group heartbeat, for both group kinds. Answering a member that is in
// the group (epoch > 0), it means the coordinator no longer has the group (deleted, or its state
// lost): the member rejoins with epoch 0 and keeps consuming, losing nothing. Answering a join
// (epoch 0), it means the id belongs to a group of another type (a consumer group's id used for
// a share group, or the reverse): no retry fixes that, so the member stops with a fatal error
// instead of retrying for ever. Faults on a joined member are injected by a proxy in front of
// the real broker; the type clash is real.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { EngineError } from '../../../src/engine/errors.ts'
import { ShareError } from '../../../src/engine/share/errors.ts'
import { parseBootstrap } from '../../../src/kafka/bootstrap.ts'
import { protocolErrorName } from '../../../src/kafka/protocol-errors.ts'
import { deliverySummary, TestMember } from '../../support/engine-member.ts'
import { FaultProxy } from '../../support/fault-proxy.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { createShareMember, ShareWorker, shareGroup } from '../../support/share.ts'

const CONSUMER_GROUP_HEARTBEAT = 68
const GROUP_ID_NOT_FOUND = 69

describe('GROUP_ID_NOT_FOUND from a group heartbeat', () => {
  let proxy: FaultProxy
  before(async () => {
    proxy = await FaultProxy.start(parseBootstrap(bootstrapServers())[0]!)
  })
  after(async () => {
    await proxy.close()
  })

  it('a joined consumer-group member rejoins with epoch 0 and keeps consuming (nothing lost)', async () => {
    const topic = await createTopic('gidnf-consumer', 2)
    const member = new TestMember({
      groupId: uniqueName('gidnf-consumer'),
      topics: [topic],
      bootstrap: [`127.0.0.1:${proxy.port}`],
    })
    const fatal: EngineError[] = []
    const heartbeatErrors: string[] = []
    member.consumer.on('fatal', (e) => fatal.push(e))
    member.consumer.on('warning', (e) => {
      if (e.source === 'heartbeat') heartbeatErrors.push(protocolErrorName(e.error) ?? e.error.message)
    })
    await member.start()
    try {
      await produceRecords(topic, 40, { partitions: 2 })
      await waitUntil(() => deliverySummary(member.processed).distinct === 40, { message: 'first 40' })
      const epochBefore = member.consumer.memberEpoch
      proxy.inject({
        apiKey: CONSUMER_GROUP_HEARTBEAT,
        kind: 'error-code',
        errorCode: GROUP_ID_NOT_FOUND,
        count: 1,
      })
      await waitUntil(() => proxy.pending() === 0, { message: 'GROUP_ID_NOT_FOUND injected' })
      await waitUntil(() => member.consumer.assignment().length === 2 && member.consumer.memberEpoch > 0, {
        message: 'rejoined with both partitions',
      })
      await produceRecords(topic, 40, { partitions: 2 })
      await waitUntil(() => deliverySummary(member.processed).distinct === 80, {
        message: 'the next 40 after rejoining',
      })
      assert.deepEqual(fatal, [], 'not fatal')
      assert.ok(!member.consumer.closed)
      assert.ok(heartbeatErrors.includes('GROUP_ID_NOT_FOUND'), heartbeatErrors.join(', '))
      assert.ok(epochBefore > 0)
    } finally {
      await member.stop()
    }
  })

  it('a joined share-group member rejoins with epoch 0 and keeps consuming', async () => {
    const topic = await createTopic('gidnf-share', 1)
    const groupId = await shareGroup('gidnf-share')
    const { consumer } = createShareMember({
      groupId,
      topics: [topic],
      bootstrap: [`127.0.0.1:${proxy.port}`],
    })
    const fatal: ShareError[] = []
    consumer.on('fatal', (e) => fatal.push(e))
    await consumer.start()
    const worker = new ShareWorker(consumer)
    try {
      await produceRecords(topic, 20, { partitions: 1 })
      await waitUntil(() => worker.applied('accept').length === 20, { message: 'first 20' })
      proxy.inject({ apiKey: 76, kind: 'error-code', errorCode: GROUP_ID_NOT_FOUND, count: 1 })
      await waitUntil(() => proxy.pending() === 0, { message: 'GROUP_ID_NOT_FOUND injected' })
      await produceRecords(topic, 20, {
        partitions: 1,
        record: (i) => ({ key: `k${i}`, value: `v${20 + i}`, partition: 0, headers: {} }),
      })
      await waitUntil(() => worker.applied('accept').length === 40, {
        message: 'the next 20 after rejoining',
      })
      assert.deepEqual(fatal, [])
    } finally {
      await worker.stop()
    }
  })

  it("a share member joining with a consumer group's id stops with a fatal error", async () => {
    const topic = await createTopic('gidnf-clash-share', 1)
    const groupId = uniqueName('gidnf-clash-share')
    const owner = new TestMember({ groupId, topics: [topic] })
    await owner.start()
    try {
      const { consumer } = createShareMember({ groupId, topics: [topic] })
      const fatal = new Promise<ShareError>((resolve) => consumer.once('fatal', resolve))
      await assert.rejects(consumer.start(), (error: unknown) => {
        assert.ok(error instanceof ShareError)
        assert.equal(error.code, 'MEMBERSHIP_FATAL')
        return true
      })
      const event = await fatal
      assert.match(event.message, /GROUP_ID_NOT_FOUND|INCONSISTENT_GROUP_PROTOCOL/)
      await waitUntil(() => !consumer.running, { message: 'the share member closed' })
    } finally {
      await owner.stop()
    }
  })

  it("a consumer-group member joining with a share group's id stops with a fatal error", async () => {
    const topic = await createTopic('gidnf-clash-consumer', 1)
    const groupId = await shareGroup('gidnf-clash-consumer')
    const { consumer: owner } = createShareMember({ groupId, topics: [topic] })
    await owner.start()
    const member = new TestMember({ groupId, topics: [topic] })
    try {
      await assert.rejects(member.start(), (error: unknown) => {
        assert.ok(error instanceof EngineError)
        assert.equal(error.code, 'MEMBERSHIP_FATAL')
        assert.match(error.message, /GROUP_ID_NOT_FOUND|INCONSISTENT_GROUP_PROTOCOL/)
        return true
      })
    } finally {
      await member.stop().catch(() => {})
      await owner.close()
    }
  })
})
