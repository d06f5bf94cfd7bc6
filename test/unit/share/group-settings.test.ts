// A share member's group settings read from the broker: the delivery count limit is read again
// at each release decision; a read that fails keeps the last value and is reported once until a
// read succeeds again (a member not allowed to read group configs must not report it for every
// failing record).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ShareGroupSettings } from '../../../src/engine/share/group-settings.ts'
import { FakeCluster } from '../../support/fake-cluster.ts'

/** A cluster where every read of the group's configs (DescribeConfigs) fails with `error`. */
function failingReads(error: string): FakeCluster {
  return new FakeCluster().otherwise('DescribeConfigs', new Error(error))
}

describe('share group settings', () => {
  it('a delivery count limit read that keeps failing is reported once, and the last value is kept', async () => {
    const warnings: Error[] = []
    const settings = new ShareGroupSettings(
      failingReads('GROUP_AUTHORIZATION_FAILED').cluster,
      'g',
      { value: 10, fixed: false },
      (e) => warnings.push(e),
    )
    settings.deliveryCountLimit = 4
    for (let i = 0; i < 5; i++) assert.equal(await settings.currentDeliveryCountLimit(), 4)
    assert.equal(warnings.length, 1, warnings.map((w) => w.message).join('; '))
    assert.match(warnings[0]!.message, /GROUP_AUTHORIZATION_FAILED/)
  })

  it('concurrent release decisions share one read', async () => {
    const fake = failingReads('down')
    const settings = new ShareGroupSettings(fake.cluster, 'g', { value: 10, fixed: false }, () => {})
    await Promise.all(Array.from({ length: 20 }, () => settings.currentDeliveryCountLimit()))
    assert.equal(fake.requestsOf('DescribeConfigs').length, 1)
  })
})
