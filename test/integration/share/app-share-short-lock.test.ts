// Share groups through the app with a short lock (2 s, the shortest renewal serves): handlers
// running longer than the lock keep their records — each renewal is asked for early enough to
// wait out the fetch in flight — so every record is handled once and no lock is lost. On a real
// broker.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { createTopic, produceRecords } from '../../support/kafka.ts'
import { lagZero, shareGroup, shareTestApp } from '../../support/share.ts'

describe('share groups in the app: a short lock', () => {
  it('a 2 s lock, 3 s handlers, capacity 4: 16 records handled once each, no lock lost', async () => {
    const topic = await createTopic('share-short-lock', 1)
    // Delivery count limit 10: a lost lock shows as a second run, not as an archived record.
    const group = await shareGroup('share-short-lock', { recordLockDurationMs: 2000, deliveryCountLimit: 10 })
    await produceRecords(topic, 16, { partitions: 1 })
    const runs = new Map<number, number[]>()
    const lost: Array<MultilaneEvents['share.lock_lost']> = []
    const errors: string[] = []
    const a = shareTestApp('share-short-lock')
    a.shareGroup(group, (g) =>
      g.topic(topic, {
        processing: { style: 'continuous', capacity: 4 },
        handler: async (record) => {
          runs.set(record.offset, [...(runs.get(record.offset) ?? []), record.deliveryCount])
          await new Promise((resolve) => setTimeout(resolve, 3000))
        },
      }),
    )
    a.on('share.lock_lost', (e) => lost.push(e))
    a.on('error.occurred', (e) => errors.push(`${e.type}: ${e.error.message}`))
    await a.start()
    try {
      await lagZero(group, 120_000)
    } finally {
      await a.stop()
    }
    assert.deepEqual(
      [...runs].filter(([, counts]) => counts.length !== 1),
      [],
      'records run more than once',
    )
    assert.equal(runs.size, 16)
    assert.deepEqual(
      lost.map((e) => `${e.offset}/${e.deliveryCount}`),
      [],
    )
    assert.deepEqual(errors, [])
  })
})
