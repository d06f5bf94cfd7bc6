// Continuous acknowledgement, the point of multilane's share consumer: records of earlier
// fetches are acknowledged while later fetches come and go (the Java client, librdkafka and
// franz-go only acknowledge the current poll's records), and locks are renewed while a
// record runs long.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ShareRecord } from '../../../src/engine/share/types.ts'
import { createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { createShareMember, ShareWorker, shareGroup, waitForAssignment } from '../../support/share.ts'

describe('continuous acknowledgement', () => {
  it('acknowledges records of earlier fetches while later fetches are in flight (proved from fetch/ack events)', async () => {
    const topic = await createTopic('share-overlap', 1)
    const groupId = await shareGroup('share-overlap')
    // Small fetches, so the 200 records take many of them.
    const { consumer, log } = createShareMember({ groupId, topics: [topic], maxRecords: 10 })
    await consumer.start()
    const slow = new Set([0, 1, 2, 3, 4])
    const worker: ShareWorker = new ShareWorker(consumer, async (r) => {
      // The first fetch's records finish only after 60 later records were handed out.
      if (slow.has(r.offset)) await waitUntil(() => worker.deliveries.length >= 60, { timeoutMs: 60_000 })
      return 'accept' as const
    })
    // Batches of 10 records: a fetch returns whole batches.
    await produceRecords(topic, 200, { partitions: 1, batchSize: 10 })
    await waitUntil(() => worker.applied('accept').length === 200, {
      timeoutMs: 60_000,
      message: '200 accepts',
    })
    await worker.stop()

    // Which request acquired each offset, and which request's answer applied its accept.
    const fetchedBy = new Map<number, number>()
    for (const f of log.fetches)
      for (const a of f.acquired)
        for (const range of a.ranges)
          for (let o = range.firstOffset; o <= range.lastOffset; o++) fetchedBy.set(o, f.requestSeq)
    const acceptedBy = new Map<number, { seq: number; via: string }>()
    for (const a of log.acknowledgements)
      for (const r of a.results)
        if (r.type === 'accept' && r.outcome === 'ok')
          acceptedBy.set(r.offset, { seq: a.requestSeq, via: a.via })
    assert.equal(acceptedBy.size, 200)

    const fetchesAcquiring = log.fetches.filter((f) => f.acquired.some((a) => a.records > 0))
    for (const offset of slow) {
      const fetched = fetchedBy.get(offset)!
      const accepted = acceptedBy.get(offset)!
      const later = fetchesAcquiring.filter((f) => f.requestSeq > fetched && f.requestSeq < accepted.seq)
      assert.ok(
        later.length >= 3,
        `offset ${offset}: acquired by request #${fetched}, accepted by request #${accepted.seq}, ` +
          `with ${later.length} fetches acquiring records in between`,
      )
      const laterRecords = later.reduce((n, f) => n + f.acquired.reduce((m, a) => m + a.records, 0), 0)
      assert.ok(
        laterRecords >= 50,
        `offset ${offset}: ${laterRecords} records of later fetches came before its accept`,
      )
    }
    // Acknowledgements ride on fetches that acquire more records: fetching never stops for them.
    const piggybacked = log.fetches.filter(
      (f) => f.acknowledgements > 0 && f.acquired.some((a) => a.records > 0),
    )
    assert.ok(
      piggybacked.length >= 3,
      `${piggybacked.length} fetches carried acknowledgements and acquired records`,
    )
    assert.ok([...acceptedBy.values()].some((a) => a.via === 'ShareFetch'))
  })

  it('renewing the lock keeps a record for 3x the lock duration without redelivery; without renewal it comes back', async () => {
    const lockMs = 2000
    const topic = await createTopic('share-renew', 1)
    const groupId = await shareGroup('share-renew', { recordLockDurationMs: lockMs })
    const a = createShareMember({ groupId, topics: [topic] })
    const b = createShareMember({ groupId, topics: [topic] })
    await Promise.all([a.consumer.start(), b.consumer.start()])
    await waitForAssignment([a.consumer, b.consumer], topic, 1)
    const renewals: number[] = []
    let heldMs = 0
    const hold = async (consumer: typeof a.consumer, r: ShareRecord) => {
      const started = Date.now()
      while (Date.now() - started < 3 * lockMs + 500) {
        const deadline = consumer.lockDeadline(r)
        assert.ok(deadline !== undefined, 'the lock is still held')
        if (deadline - Date.now() < lockMs / 2) {
          const renewed = await consumer.acknowledge(r, 'renew')
          assert.equal(renewed.outcome, 'ok', renewed.error?.message)
          renewals.push(renewed.lockDeadline!)
        }
        await sleep(50)
      }
      heldMs = Date.now() - started
    }
    // Offset 0 is held 3x the lock duration, renewing; offset 1 as long without renewing.
    let outcomeOf1: string | undefined
    const decide = (consumer: typeof a.consumer) => async (r: ShareRecord) => {
      if (r.offset === 0) await hold(consumer, r)
      if (r.offset === 1 && r.deliveryCount === 1) {
        await sleep(3 * lockMs)
        outcomeOf1 = (await consumer.acknowledge(r, 'accept')).outcome
        return null
      }
      return 'accept' as const
    }
    const workers = [
      new ShareWorker(a.consumer, decide(a.consumer)),
      new ShareWorker(b.consumer, decide(b.consumer)),
    ]
    await produceRecords(topic, 6, { partitions: 1 })
    await waitUntil(
      () =>
        workers.some((w) => w.applied('accept').includes(0)) &&
        outcomeOf1 !== undefined &&
        workers.some((w) => w.applied('accept').includes(1)),
      { timeoutMs: 60_000, message: 'offsets 0 and 1 accepted' },
    )
    await Promise.all(workers.map((w) => w.stop()))

    const deliveries = workers.flatMap((w) => w.deliveries)
    const of = (offset: number) =>
      deliveries
        .filter((r) => r.offset === offset)
        .map((r) => r.deliveryCount)
        .sort()
    assert.ok(heldMs >= 3 * lockMs, `held ${heldMs} ms`)
    assert.ok(renewals.length >= 3, `${renewals.length} renewals`)
    assert.ok(
      renewals.every((d, i) => i === 0 || d > renewals[i - 1]!),
      'each renewal moves the deadline',
    )
    assert.deepEqual(of(0), [1], 'renewed: never delivered again, to either member')
    assert.equal(outcomeOf1, 'lock_lost', 'not renewed: the late accept finds the lock gone')
    assert.ok(of(1).length >= 2 && of(1).includes(2), `not renewed: redelivered (${of(1)})`)
  })
})
