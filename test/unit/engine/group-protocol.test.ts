// Which group protocol a consumer group member speaks: 'classic' as asked; 'auto' picks KIP-848
// only where the cluster finalized group.version ≥ 1 and offers ConsumerGroupHeartbeat v1 (Kafka
// 3.9 advertises ConsumerGroupHeartbeat v0 with only the classic protocol on: its mere presence
// decides nothing), classic elsewhere; forcing 'consumer' where the cluster lacks it fails,
// naming the feature level found and the option. A scripted fake cluster, no broker.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EngineError } from '../../../src/engine/errors.ts'
import { chooseGroupProtocol } from '../../../src/engine/group-protocol.ts'
import { FakeCluster } from '../../support/fake-cluster.ts'

const kafka39 = () =>
  new FakeCluster({ apiVersions: { ConsumerGroupHeartbeat: { min: 0, max: 0 } }, features: {} })
const kafka44 = () =>
  new FakeCluster({
    apiVersions: { ConsumerGroupHeartbeat: { min: 0, max: 1 } },
    features: { 'group.version': 1 },
  })

describe('chooseGroupProtocol', () => {
  it("'auto' picks classic on a Kafka 3.9-like broker (ConsumerGroupHeartbeat v0, group.version 0)", async () => {
    const choice = await chooseGroupProtocol(kafka39().cluster, 'g', 'auto')
    assert.equal(choice.protocol, 'classic')
    assert.match(choice.reason, /group\.version 0/)
  })

  it("'auto' picks KIP-848 where group.version ≥ 1 and ConsumerGroupHeartbeat v1 is offered", async () => {
    const choice = await chooseGroupProtocol(kafka44().cluster, 'g', 'auto')
    assert.equal(choice.protocol, 'consumer')
    assert.match(choice.reason, /group\.version 1/)
  })

  it("'auto' picks classic where group.version was downgraded to 0 on a 4.x broker", async () => {
    const fake = new FakeCluster({ apiVersions: { ConsumerGroupHeartbeat: { min: 0, max: 1 } } })
    assert.equal((await chooseGroupProtocol(fake.cluster, 'g', 'auto')).protocol, 'classic')
  })

  it("forcing 'consumer' where the cluster lacks it fails, naming the feature level, the Kafka version needed and the option", async () => {
    await assert.rejects(chooseGroupProtocol(kafka39().cluster, 'orders', 'consumer'), (error: unknown) => {
      assert.ok(error instanceof EngineError)
      assert.equal(error.code, 'GROUP_PROTOCOL_UNAVAILABLE')
      assert.match(error.message, /group "orders": groupProtocol 'consumer'/)
      assert.match(error.message, /group\.version 0/)
      assert.match(error.message, /ConsumerGroupHeartbeat up to v0/)
      assert.match(error.message, /Kafka ≥ 4\.0/)
      assert.match(error.message, /'classic' or 'auto'/)
      return true
    })
  })

  it("'classic' is taken as asked, without asking the broker", async () => {
    const fake = kafka44()
    assert.equal((await chooseGroupProtocol(fake.cluster, 'g', 'classic')).protocol, 'classic')
  })
})
