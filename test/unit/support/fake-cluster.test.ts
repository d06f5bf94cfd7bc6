// The scripted fake cluster the engine unit tests run on: metadata comes from the topics the
// test sets and reaches the engine only through a refresh; each API is answered from its
// script in order, then from its fallback, and fails with a clear error when nothing is
// scripted; every request and connection attempt is recorded. The engine's own request
// functions run over it unchanged. If the fake drifted from KafkaCluster's behaviour, the
// engine tests built on it would specify the wrong thing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { listOffsetsV9 } from '@platformatic/kafka'
import { listOffsets } from '../../../src/engine/offset-resolver.ts'
import { FakeCluster } from '../../support/fake-cluster.ts'

function offsetsAnswer(offset: number): listOffsetsV9.ListOffsetsResponse {
  return {
    throttleTimeMs: 0,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: BigInt(offset), leaderEpoch: 0 },
        ],
      },
    ],
  }
}

const earliest = (fake: FakeCluster) =>
  listOffsets(fake.cluster, [{ topic: 't', partition: 0 }], 'earliest', 'read_uncommitted')

describe('fake cluster', () => {
  it('answers metadata from its topics; the engine sees a leader move only after a refresh', async () => {
    const fake = new FakeCluster({ brokers: [1, 2] }).topic('t', [1, -1]).topic('u', [2])
    const cluster = fake.cluster
    assert.equal(cluster.topicByName('t'), undefined, 'nothing known before the first refresh')
    const first = await cluster.refreshMetadata(['t', 'missing'])
    assert.deepEqual([...first.keys()], ['t'], 'unknown topics are left out')
    assert.deepEqual(first.get('t')?.partitions, [
      { nodeId: 1, leaderEpoch: 0 },
      { nodeId: -1, leaderEpoch: 0 },
    ])
    fake.moveLeader('t', 0, 2)
    assert.deepEqual(cluster.topicByName('t')?.partitions[0], { nodeId: 1, leaderEpoch: 0 })
    await cluster.refreshMetadata(null)
    assert.deepEqual(cluster.topicByName('t')?.partitions[0], { nodeId: 2, leaderEpoch: 1 })
    assert.equal(cluster.topicById(cluster.topicByName('u')!.topicId)?.name, 'u')
    fake.script('Metadata', new Error('first refresh fails'))
    fake.otherwise('Metadata', new Error('then every refresh'))
    await assert.rejects(cluster.refreshMetadata(['t']), /first refresh fails/)
    await assert.rejects(cluster.refreshMetadata(['t']), /then every refresh/)
    assert.deepEqual(
      cluster.topicByName('t')?.partitions[0],
      { nodeId: 2, leaderEpoch: 1 },
      'kept from the last answer',
    )
    assert.deepEqual(
      fake.requestsOf('Metadata').map((r) => r.topics),
      [['t', 'missing'], null, ['t'], ['t']],
    )
  })

  it('plays each API script in order, then the fallback, and names the API when nothing is scripted', async () => {
    const fake = new FakeCluster().topic('t', [1])
    await fake.cluster.refreshMetadata(['t'])
    await assert.rejects(earliest(fake), /FakeCluster: nothing scripted for ListOffsets \(broker 1\)/)
    fake.script('ListOffsets', offsetsAnswer(5), new Error('NOT_LEADER_OR_FOLLOWER'), async () =>
      offsetsAnswer(7),
    )
    fake.otherwise('ListOffsets', offsetsAnswer(9))
    assert.deepEqual(await earliest(fake), new Map([['t#0', 5]]))
    await assert.rejects(earliest(fake), /NOT_LEADER_OR_FOLLOWER/)
    assert.deepEqual(await earliest(fake), new Map([['t#0', 7]]))
    assert.equal(fake.pending('ListOffsets'), 0)
    assert.deepEqual(await earliest(fake), new Map([['t#0', 9]]))
    assert.deepEqual(
      fake.requestsOf('ListOffsets').map((r) => [r.nodeId, r.pool, r.apiVersion]),
      Array.from({ length: 5 }, () => [1, 'control', 9]),
    )
  })

  it('refuses connections while told to, and records every attempt', async () => {
    const fake = new FakeCluster({ brokers: [1, 2] })
    fake.refuseConnections((target) => (target === 2 ? new Error('broker 2 is down') : undefined))
    await fake.cluster.connectionTo(1, 'data')
    await assert.rejects(fake.cluster.connectionTo(2), /broker 2 is down/)
    fake.refuseConnections()
    await assert.rejects(fake.cluster.anyConnection(), { code: 'NO_BROKER_REACHABLE' })
    fake.acceptConnections()
    await fake.cluster.anyConnection()
    assert.throws(() => fake.cluster.brokerAddress(3), { code: 'UNKNOWN_BROKER' })
    assert.deepEqual(fake.connects, [
      { nodeId: 1, pool: 'data' },
      { nodeId: 2, pool: 'control' },
      { nodeId: 'any', pool: 'control' },
      { nodeId: 'any', pool: 'control' },
    ])
  })

  it('selects API versions like a broker that offers what it is told to', async () => {
    const fake = new FakeCluster({ apiVersions: { ShareFetch: { min: 0, max: 1 } } })
    assert.equal(await fake.cluster.selectVersion(1, 'ShareFetch', [1, 2]), 1)
    assert.equal(await fake.cluster.selectVersion(1, 'ShareAcknowledge', [1, 2]), 2)
    await assert.rejects(fake.cluster.selectVersion(1, 'ShareFetch', [2]), {
      code: 'UNSUPPORTED_API_VERSION',
    })
  })
})
