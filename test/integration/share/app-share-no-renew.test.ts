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

interface Run {
  name: string
  records: number
  handlerMs: number
  acquireMode?: AcquireMode
  /** Key ordering, every record of one key. */
  oneKey?: boolean
  /** Blocking style with this many records per poll (else continuous). */
  maxPollRecords?: number
}

/**
 * A 3 s lock, 2 deliveries, no renewal; one member running one handler at a time. Every record
 * must be handled on its first delivery, no lock lost, none archived unseen.
 */
async function slowMemberWithoutRenewal(run: Run): Promise<void> {
  const topic = await createTopic(run.name, 1)
  const group = await shareGroup(run.name, {
    recordLockDurationMs: 3000,
    deliveryCountLimit: 2,
    renewAcknowledgeEnable: false,
  })
  await produceRecords(topic, run.records, {
    partitions: 1,
    batchSize: run.records,
    ...(run.oneKey
      ? {
          record: (i: number) => ({
            key: 'one-key',
            value: `v${i}`,
            partition: 0,
            headers: { seq: String(i) },
          }),
        }
      : {}),
  })
  const handled = new Map<number, number[]>()
  const lost: Array<MultilaneEvents['share.lock_lost']> = []
  const a = shareTestApp(run.name)
  a.shareGroup(group, (g) => {
    if (run.acquireMode) g.options({ acquireMode: run.acquireMode })
    g.topic(topic, {
      processing: {
        style: run.maxPollRecords ? 'blocking' : 'continuous',
        capacity: 1,
        ordering: run.oneKey ? 'key' : 'unordered',
        ...(run.maxPollRecords ? { maxPollRecords: run.maxPollRecords } : {}),
      },
      handler: async (record) => {
        handled.set(record.offset, [...(handled.get(record.offset) ?? []), record.deliveryCount])
        await sleep(run.handlerMs)
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
  const missing = Array.from({ length: run.records }, (_, i) => i).filter((o) => !handled.has(o))
  assert.deepEqual(missing, [], `offsets never handled (archived unseen): ${missing.join(', ')}`)
  assert.deepEqual(
    lost.map((e) => `${e.offset}/${e.deliveryCount}: ${e.reason}`),
    [],
  )
  for (const [offset, counts] of handled) assert.deepEqual(counts, [1], `offset ${offset} deliveries`)
}

describe('share groups in the app without lock renewal', () => {
  // One producer batch of 12, 1 s handlers: a fetch of all 12 would leave 9 of them to expire
  // in the buffer, twice.
  it('batch_optimized: a slow member fetches no more than it can start, every record is handled once', async () => {
    await slowMemberWithoutRenewal({
      name: 'share-norenew-batch_optimized',
      records: 12,
      handlerMs: 1000,
      acquireMode: 'batch_optimized',
    })
  })

  it('record_limit: a slow member fetches no more than it can start, every record is handled once', async () => {
    await slowMemberWithoutRenewal({
      name: 'share-norenew-record_limit',
      records: 12,
      handlerMs: 1000,
      acquireMode: 'record_limit',
    })
  })

  it('key ordering: records of one key wait behind each other no longer than their lock: every record is handled once, no lock lost', async () => {
    // 1.2 s handlers: a member that takes records to queue them behind their key (the lane
    // lookahead, 4 x capacity) holds the 4th for 3.6 s before it starts.
    await slowMemberWithoutRenewal({ name: 'share-norenew-key', records: 8, handlerMs: 1200, oneKey: true })
  })

  it('blocking style: a poll takes no more than the handlers can start, every record is handled once', async () => {
    // maxPollRecords 8 with capacity 1 and 1 s handlers: a poll of 8 would keep the last ones
    // waiting 7 s under a 3 s lock.
    await slowMemberWithoutRenewal({
      name: 'share-norenew-blocking',
      records: 8,
      handlerMs: 1000,
      maxPollRecords: 8,
    })
  })
})
