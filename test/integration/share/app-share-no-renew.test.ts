// Share groups through the app where lock renewal is unavailable (a broker < 4.2, or the group's
// share.renew.acknowledge.enable=false): the member holds no more records than it can start
// now, so no record waits in its buffer until its lock expires and the broker archives it at
// the delivery count limit unhandled — in both acquire modes, on a real broker. With key
// ordering too: records of one key run one at a time, and none waits locked behind its key
// longer than its lock.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { AcquireMode } from '../../../src/engine/share/types.ts'
import type { MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { createTopic, produceRecords } from '../../support/kafka.ts'
import { lagZero, shareGroup, shareTestApp } from '../../support/share.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const RECORDS = 12

async function slowMemberWithoutRenewal(acquireMode: AcquireMode): Promise<void> {
  const topic = await createTopic(`share-norenew-${acquireMode}`, 1)
  // A 3 s lock, 2 deliveries, no renewal; one member running one 1 s handler at a time: a fetch
  // of all 12 records (one producer batch) would leave 9 of them to expire in the buffer, twice.
  const group = await shareGroup(`share-norenew-${acquireMode}`, {
    recordLockDurationMs: 3000,
    deliveryCountLimit: 2,
    renewAcknowledgeEnable: false,
  })
  await produceRecords(topic, RECORDS, { partitions: 1, batchSize: RECORDS })
  const handled = new Map<number, number[]>()
  const lost: Array<MultilaneEvents['share.lock_lost']> = []
  const a = shareTestApp(`share-norenew-${acquireMode}`)
  a.shareGroup(group, (g) => {
    g.options({ acquireMode })
    g.topic(topic, {
      processing: { style: 'continuous', capacity: 1 },
      handler: async (record) => {
        handled.set(record.offset, [...(handled.get(record.offset) ?? []), record.deliveryCount])
        await sleep(1000)
      },
    })
  })
  a.on('share.lock_lost', (e) => lost.push(e))
  await a.start()
  try {
    // Every record ends: accepted, or archived by the broker (lag 0 either way).
    await lagZero(group, 120_000)
  } finally {
    await a.stop()
  }
  const missing = Array.from({ length: RECORDS }, (_, i) => i).filter((o) => !handled.has(o))
  assert.deepEqual(missing, [], `offsets never handled (archived unseen): ${missing.join(', ')}`)
  assert.deepEqual(
    lost.map((e) => `${e.offset}/${e.deliveryCount}: ${e.reason}`),
    [],
  )
  for (const [offset, counts] of handled) assert.deepEqual(counts, [1], `offset ${offset} deliveries`)
}

describe('share groups in the app without lock renewal', () => {
  it('batch_optimized: a slow member fetches no more than it can start, every record is handled once', async () => {
    await slowMemberWithoutRenewal('batch_optimized')
  })

  it('record_limit: a slow member fetches no more than it can start, every record is handled once', async () => {
    await slowMemberWithoutRenewal('record_limit')
  })
})

describe('share groups in the app without lock renewal, key ordering', () => {
  it('records of one key wait behind each other no longer than their lock: every record is handled once, no lock lost', async () => {
    const topic = await createTopic('share-norenew-key', 1)
    // A 3 s lock, no renewal, one key, capacity 1, 1.2 s handlers: a member that takes records
    // to queue them behind their key (4 x capacity) holds the 4th for 3.6 s before it starts.
    const group = await shareGroup('share-norenew-key', {
      recordLockDurationMs: 3000,
      deliveryCountLimit: 2,
      renewAcknowledgeEnable: false,
    })
    await produceRecords(topic, 8, {
      partitions: 1,
      batchSize: 8,
      record: (i) => ({ key: 'one-key', value: `v${i}`, partition: 0, headers: { seq: String(i) } }),
    })
    const handled = new Map<number, number[]>()
    const lost: Array<MultilaneEvents['share.lock_lost']> = []
    const a = shareTestApp('share-norenew-key')
    a.shareGroup(group, (g) => {
      g.topic(topic, {
        processing: { style: 'continuous', capacity: 1, ordering: 'key' },
        handler: async (record) => {
          handled.set(record.offset, [...(handled.get(record.offset) ?? []), record.deliveryCount])
          await sleep(1200)
        },
      })
    })
    a.on('share.lock_lost', (e) => lost.push(e))
    await a.start()
    try {
      await lagZero(group, 120_000)
    } finally {
      await a.stop()
    }
    const missing = Array.from({ length: 8 }, (_, i) => i).filter((o) => !handled.has(o))
    assert.deepEqual(missing, [], `offsets never handled (archived unseen): ${missing.join(', ')}`)
    assert.deepEqual(
      lost.map((e) => `${e.offset}/${e.deliveryCount}: ${e.reason}`),
      [],
    )
    for (const [offset, counts] of handled) assert.deepEqual(counts, [1], `offset ${offset} deliveries`)
  })
})
