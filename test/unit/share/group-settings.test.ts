// A share member's group settings read from the broker: the delivery count limit is read again
// at each release decision; a read that fails keeps the last value and is reported once until a
// read succeeds again (a member not allowed to read group configs must not report it for every
// failing record).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ShareGroupSettings } from '../../../src/engine/share/group-settings.ts'
import type { KafkaCluster } from '../../../src/kafka/cluster.ts'

/** A cluster whose connections fail while `down()` says so. */
function cluster(down: () => boolean): KafkaCluster {
  return {
    anyConnection: async () => {
      if (down()) throw new Error('GROUP_AUTHORIZATION_FAILED')
      throw new Error('unreachable in this test')
    },
  } as unknown as KafkaCluster
}

describe('share group settings', () => {
  it('a delivery count limit read that keeps failing is reported once, and the last value is kept', async () => {
    const warnings: Error[] = []
    const settings = new ShareGroupSettings(
      cluster(() => true),
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
    let reads = 0
    const settings = new ShareGroupSettings(
      {
        anyConnection: async () => {
          reads++
          throw new Error('down')
        },
      } as unknown as KafkaCluster,
      'g',
      { value: 10, fixed: false },
      () => {},
    )
    await Promise.all(Array.from({ length: 20 }, () => settings.currentDeliveryCountLimit()))
    assert.equal(reads, 1)
  })
})
