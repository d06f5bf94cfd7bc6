import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { toAcknowledgementBatches } from '../../../src/engine/share/acknowledgement-batches.ts'
import { decodeAcquired } from '../../../src/engine/share/acquired-records.ts'
import { ShareError } from '../../../src/engine/share/errors.ts'
import { type AckUnit, SharePartition } from '../../../src/engine/share/share-partition.ts'
import type { AckResult, ShareRecord } from '../../../src/engine/share/types.ts'
import { decodeBatches } from '../../support/record-batches.ts'
import { recordBatch } from '../kafka/share-wire.ts'

const FAR = Date.now() + 3_600_000

function record(offset: number, deliveryCount = 1, lockDeadline = FAR): ShareRecord {
  return {
    topic: 't',
    partition: 0,
    offset,
    timestamp: 0,
    key: null,
    value: Buffer.from(`v${offset}`),
    headers: [],
    leaderEpoch: 0,
    deliveryCount,
    lockDeadline,
  }
}

function partitionWith(offsets: number[], budget = 100): SharePartition {
  const p = new SharePartition('t', 0, budget)
  p.addAcquired(
    offsets.map((o) => record(o)),
    [],
  )
  p.take(offsets.length, Date.now())
  return p
}

/**
 * An in-memory stand-in for the broker's per-partition acknowledgement rule: a unit is applied
 * all or none, and fails with INVALID_RECORD_STATE when any offset is not acquired.
 */
function brokerApplies(p: SharePartition, unit: AckUnit, notAcquired: Set<number>): AckResult[] {
  if (unit.some((e) => notAcquired.has(e.offset))) {
    return p.settle(unit, {
      kind: 'invalid_record_state',
      error: new ShareError('LOCK_LOST', 'INVALID_RECORD_STATE', { kafkaError: 'INVALID_RECORD_STATE' }),
    })
  }
  return p.settle(unit, { kind: 'ok', renewDeadline: FAR + 1 })
}

describe('acknowledgement batches', () => {
  it('one batch per run of consecutive offsets; one type when the run has one', () => {
    const batches = toAcknowledgementBatches([
      { offset: 12, type: 1 },
      { offset: 10, type: 1 },
      { offset: 11, type: 1 },
      { offset: 20, type: 2 },
      { offset: 21, type: 0 },
      { offset: 22, type: 3 },
      { offset: 30, type: 4 },
    ])
    assert.deepEqual(batches, [
      { firstOffset: 10n, lastOffset: 12n, acknowledgeTypes: [1] },
      { firstOffset: 20n, lastOffset: 22n, acknowledgeTypes: [2, 0, 3] },
      { firstOffset: 30n, lastOffset: 30n, acknowledgeTypes: [4] },
    ])
  })

  it('covers exactly the given offsets with their types (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({ offset: fc.integer({ min: 0, max: 300 }), type: fc.integer({ min: 0, max: 4 }) }),
          {
            selector: (a) => a.offset,
          },
        ),
        (acks) => {
          const expanded = new Map<number, number>()
          let previousLast = -1n
          for (const b of toAcknowledgementBatches(acks)) {
            assert.ok(b.firstOffset > previousLast, 'batches ascend without overlap')
            previousLast = b.lastOffset
            const n = Number(b.lastOffset - b.firstOffset) + 1
            assert.ok(b.acknowledgeTypes.length === 1 || b.acknowledgeTypes.length === n)
            for (let i = 0; i < n; i++) {
              expanded.set(
                Number(b.firstOffset) + i,
                b.acknowledgeTypes[b.acknowledgeTypes.length === 1 ? 0 : i]!,
              )
            }
          }
          assert.deepEqual(expanded, new Map(acks.map((a) => [a.offset, a.type])))
        },
      ),
    )
  })
})

describe('acquired records', () => {
  it('delivers only acquired offsets, with their range delivery count; the rest of a batch is not ours', () => {
    const buffer = Buffer.concat([recordBatch(100n, ['a', 'b', 'c', 'd']), recordBatch(104n, ['e', 'f'])])
    const batches = decodeBatches(buffer)
    const { records, gaps } = decodeAcquired(
      't',
      3,
      batches,
      [
        { firstOffset: 105, lastOffset: 105, deliveryCount: 1 },
        { firstOffset: 101, lastOffset: 102, deliveryCount: 3 },
      ],
      1234,
    )
    assert.deepEqual(
      records.map((r) => [
        r.offset,
        r.value?.toString(),
        r.deliveryCount,
        r.partition,
        r.lockDeadline,
        r.leaderEpoch,
      ]),
      [
        [101, 'b', 3, 3, 1234, 7],
        [102, 'c', 3, 3, 1234, 7],
        [105, 'f', 1, 3, 1234, 7],
      ],
    )
    assert.deepEqual(gaps, [])
  })

  it('acquired offsets without a record (transaction markers, compacted away) are gaps', () => {
    const buffer = Buffer.concat([
      recordBatch(10n, ['a']),
      recordBatch(11n, ['marker'], 0x20),
      recordBatch(14n, ['z']),
    ])
    const batches = decodeBatches(buffer)
    const { records, gaps } = decodeAcquired(
      't',
      0,
      batches,
      [{ firstOffset: 10, lastOffset: 14, deliveryCount: 1 }],
      0,
    )
    assert.deepEqual(
      records.map((r) => r.offset),
      [10, 14],
    )
    assert.deepEqual(gaps, [11, 12, 13])
  })
})

describe('share partition bookkeeping', () => {
  it('an accepted record frees its lock; the budget counts buffered and processing records', async () => {
    const p = new SharePartition('t', 0, 3)
    p.addAcquired([record(0), record(1), record(2)], [])
    assert.equal(p.room, 0)
    assert.equal(p.buffered, 3)
    const { records } = p.take(2, Date.now())
    assert.deepEqual(
      records.map((r) => r.offset),
      [0, 1],
    )
    assert.equal(p.processing, 2)
    const done = p.acknowledge(records[0]!, 'accept')
    const unit = p.nextUnit()!
    assert.deepEqual(
      unit.map((e) => [e.offset, e.type]),
      [[0, 'accept']],
    )
    p.settle(unit, { kind: 'ok', renewDeadline: 0 })
    assert.equal((await done).outcome, 'ok')
    assert.equal(p.held, 2)
    assert.equal(p.room, 1)
    assert.equal(p.counters.accepted, 1)
  })

  it('acknowledging a delivery it does not hold is lock_lost at once; twice is ALREADY_ACKNOWLEDGED', async () => {
    const p = partitionWith([5])
    const stale = await p.acknowledge({ topic: 't', partition: 0, offset: 5, deliveryCount: 2 }, 'accept')
    assert.equal(stale.outcome, 'lock_lost')
    assert.equal(stale.error?.code, 'LOCK_LOST')
    void p.acknowledge({ topic: 't', partition: 0, offset: 5, deliveryCount: 1 }, 'accept')
    const twice = await p.acknowledge({ topic: 't', partition: 0, offset: 5, deliveryCount: 1 }, 'reject')
    assert.equal(twice.outcome, 'failed')
    assert.equal(twice.error?.code, 'ALREADY_ACKNOWLEDGED')
  })

  it('a final acknowledgement supersedes a renewal not yet sent; a renewal moves the deadline', async () => {
    const p = partitionWith([1, 2])
    const renew1 = p.acknowledge({ topic: 't', partition: 0, offset: 1, deliveryCount: 1 }, 'renew')
    const accept1 = p.acknowledge({ topic: 't', partition: 0, offset: 1, deliveryCount: 1 }, 'accept')
    assert.equal((await renew1).outcome, 'superseded')
    const renew2 = p.acknowledge({ topic: 't', partition: 0, offset: 2, deliveryCount: 1 }, 'renew')
    assert.ok(p.hasRenew())
    const unit = p.nextUnit()!
    p.settle(unit, { kind: 'ok', renewDeadline: FAR + 5 })
    assert.equal((await accept1).outcome, 'ok')
    const renewed = await renew2
    assert.equal(renewed.outcome, 'ok')
    assert.equal(renewed.lockDeadline, FAR + 5)
    assert.equal(p.lockDeadline(2, 1), FAR + 5)
    assert.equal(p.lockDeadline(1, 1), undefined, 'accepted: no longer held')
  })

  it('INVALID_RECORD_STATE rolls a unit back: halves find the lost locks, the valid acknowledgements still apply', async () => {
    const offsets = [...Array(40).keys()]
    const p = partitionWith(offsets)
    const lost = new Set([3, 17, 18, 39])
    const results = offsets.map((o) =>
      p.acknowledge({ topic: 't', partition: 0, offset: o, deliveryCount: 1 }, 'accept'),
    )
    let requests = 0
    for (let unit = p.nextUnit(); unit; unit = p.nextUnit()) {
      requests++
      brokerApplies(p, unit, lost)
    }
    const outcomes = await Promise.all(results)
    for (const r of outcomes)
      assert.equal(r.outcome, lost.has(r.offset) ? 'lock_lost' : 'ok', `offset ${r.offset}`)
    assert.equal(p.held, 0)
    assert.equal(p.counters.accepted, 36)
    assert.ok(requests < 40, `bisection used ${requests} requests, fewer than one per record`)
  })

  it('retriable errors are retried, then reported as failed; the failed record no longer counts against the lock budget', async () => {
    // A budget of one: a final acknowledgement that failed must not hold the only lock slot for
    // good (the member would never fetch again). The broker lets the lock expire (or the
    // session's close releases it) and delivers the record again.
    const p = partitionWith([9], 1)
    assert.equal(p.room, 0)
    const done = p.acknowledge({ topic: 't', partition: 0, offset: 9, deliveryCount: 1 }, 'accept')
    const error = new ShareError('KAFKA_ERROR', 'UNKNOWN_SERVER_ERROR', {
      kafkaError: 'UNKNOWN_SERVER_ERROR',
    })
    let attempts = 0
    for (let unit = p.nextUnit(); unit; unit = p.nextUnit()) {
      attempts++
      p.settle(unit, { kind: 'retry', error })
    }
    const r = await done
    assert.equal(attempts, 5)
    assert.equal(r.outcome, 'failed')
    assert.equal(r.error?.code, 'ACKNOWLEDGE_FAILED')
    assert.equal(p.held, 0, 'the failed record left the lock count')
    assert.equal(p.room, 1, 'the budget has room to fetch again')
    assert.equal(p.counters.failed, 1)
    assert.equal(p.isIdle(), true)
  })

  it('a final acknowledgement refused for good (a partition error) frees its lock slot too', async () => {
    const p = partitionWith([4, 5], 2)
    const done = p.acknowledge({ topic: 't', partition: 0, offset: 4, deliveryCount: 1 }, 'accept')
    const error = new ShareError('KAFKA_ERROR', 'UNKNOWN_TOPIC_OR_PARTITION', {
      kafkaError: 'UNKNOWN_TOPIC_OR_PARTITION',
    })
    p.settle(p.nextUnit()!, { kind: 'failed', error })
    assert.equal((await done).outcome, 'failed')
    assert.equal(p.held, 1)
    assert.equal(p.room, 1)
    assert.equal(p.processing, 1, 'the other record is still being processed')
  })

  it('a record whose lock expired in the buffer is released, not handed out', () => {
    const p = new SharePartition('t', 0, 10)
    p.addAcquired([record(0, 1, Date.now() - 1), record(1)], [])
    const { records, expired } = p.take(10, Date.now())
    assert.deepEqual(
      records.map((r) => r.offset),
      [1],
    )
    assert.deepEqual(expired, [0])
    assert.deepEqual(
      p.nextUnit()!.map((e) => [e.offset, e.type]),
      [[0, 'release']],
    )
  })

  it('buffered records near their lock deadline are renewed; a renewal that finds the lock gone leaves the buffer', () => {
    const now = Date.now()
    const p = new SharePartition('t', 0, 10)
    // A 3 s lock; offsets 0 and 1 have 500 ms left, offset 2 two thirds of it.
    p.addAcquired([record(0, 1, now + 500), record(1, 1, now + 500), record(2, 1, now + 2000)], [], 3000)
    assert.equal(p.renewBuffered(now, 1500), 2, 'renewed within the margin, not the whole lock ahead')
    assert.equal(p.renewBuffered(now, 1500), 0, 'a queued renewal is not queued again')
    const unit = p.nextUnit()!
    assert.deepEqual(
      unit.map((e) => [e.offset, e.type]),
      [
        [0, 'renew'],
        [1, 'renew'],
      ],
    )
    // The broker renewed offset 0 and had lost offset 1's lock (split units, one each).
    p.settle(unit.slice(0, 1), { kind: 'ok', renewDeadline: now + 2500 })
    p.settle(unit.slice(1), {
      kind: 'lock_lost',
      error: new ShareError('LOCK_LOST', 'INVALID_RECORD_STATE', { kafkaError: 'INVALID_RECORD_STATE' }),
    })
    assert.equal(p.buffered, 2)
    assert.equal(p.held, 2)
    const { records, expired } = p.take(10, now + 1000)
    assert.deepEqual(
      records.map((r) => [r.offset, r.lockDeadline]),
      [
        [0, now + 2500],
        [2, now + 2000],
      ],
    )
    assert.deepEqual(expired, [])
    assert.equal(p.buffered, 0)
    assert.equal(p.renewBuffered(now + 1900, 2000), 0, 'taken records are renewed by whoever processes them')
  })

  it('a buffered record with a short lock is renewed at the earlier of half its lock and the margin', () => {
    const p = new SharePartition('t', 0, 10)
    const now = Date.now()
    // A 1 s lock (the broker's minimum) with 900 ms left: half the lock is 500 ms, but the
    // session looks again only after the next request (a fetch waits up to its maxWaitMs): it
    // must be renewed now, the margin (2 s) says so.
    p.addAcquired([record(0, 1, now + 900)], [], 1000)
    assert.equal(p.renewBuffered(now, 2000), 1)
    // A 10 s lock with 6 s left is renewed at half its lock, earlier than the margin.
    const q = new SharePartition('t', 0, 10)
    q.addAcquired([record(0, 1, now + 6000), record(1, 1, now + 4900)], [], 10_000)
    assert.equal(q.renewBuffered(now, 2000), 1)
  })

  it("an acknowledgement sent after the delivery's lock deadline settles lock_lost even when the broker answers ok", async (t) => {
    // A member frozen (SIGSTOP, a long pause) between a record's end and its accept: its lock
    // expired meanwhile and another member took the record. The broker answers such a late
    // accept with no error (it ignores acknowledgements of records it already moved past), so
    // only the member's own deadline tells the lock was lost.
    t.mock.timers.enable({ apis: ['Date'], now: 5_000_000 })
    const p = new SharePartition('t', 0, 10)
    p.addAcquired([record(0, 1, 5_003_000), record(1, 1, 5_003_000)], [], 3000)
    p.take(2, Date.now())
    const onTime = p.acknowledge({ topic: 't', partition: 0, offset: 0, deliveryCount: 1 }, 'accept')
    p.settle(p.nextUnit()!, { kind: 'ok', renewDeadline: 0 })
    assert.equal((await onTime).outcome, 'ok')
    const late = p.acknowledge({ topic: 't', partition: 0, offset: 1, deliveryCount: 1 }, 'accept')
    t.mock.timers.tick(6000)
    p.settle(p.nextUnit()!, { kind: 'ok', renewDeadline: 0 })
    const r = await late
    assert.equal(r.outcome, 'lock_lost')
    assert.equal(r.error?.code, 'LOCK_LOST')
    assert.equal(p.held, 0)
    assert.equal(p.counters.accepted, 1)
    assert.equal(p.counters.lockLost, 1)
  })

  it('a late renewal answered ok is lock_lost too: the lock it would extend was gone', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 6_000_000 })
    const p = new SharePartition('t', 0, 10)
    p.addAcquired([record(0, 1, 6_003_000)], [], 3000)
    p.take(1, Date.now())
    const renew = p.acknowledge({ topic: 't', partition: 0, offset: 0, deliveryCount: 1 }, 'renew')
    t.mock.timers.tick(4000)
    p.settle(p.nextUnit()!, { kind: 'ok', renewDeadline: 6_007_000 })
    assert.equal((await renew).outcome, 'lock_lost')
  })

  it("a late renewal answered ok leaves the delivery's final acknowledgement to be sent: the broker renewed the lock", async (t) => {
    // The member's deadline is conservative (a fetch's send time plus the lock, while the broker
    // may acquire the records at the end of its wait): a renewal sent just past it can still
    // find the lock held, and the broker renews it. Reported lost (the record may have run
    // elsewhere), the delivery still holds its renewed lock: the handler's accept goes out,
    // or the broker keeps the record locked for a whole lock and runs it again.
    t.mock.timers.enable({ apis: ['Date'], now: 7_000_000 })
    const p = new SharePartition('t', 0, 10)
    p.addAcquired([record(0, 1, 7_003_000)], [], 3000)
    p.take(1, Date.now())
    const renew = p.acknowledge({ topic: 't', partition: 0, offset: 0, deliveryCount: 1 }, 'renew')
    t.mock.timers.tick(3100)
    p.settle(p.nextUnit()!, { kind: 'ok', renewDeadline: 7_006_100 })
    const renewed = await renew
    assert.equal(renewed.outcome, 'lock_lost')
    assert.equal(renewed.lockDeadline, 7_006_100)
    assert.equal(p.lockDeadline(0, 1), 7_006_100)
    t.mock.timers.tick(1000)
    const accept = p.acknowledge({ topic: 't', partition: 0, offset: 0, deliveryCount: 1 }, 'accept')
    const unit = p.nextUnit()
    assert.deepEqual(
      unit?.map((e) => [e.offset, e.type]),
      [[0, 'accept']],
    )
    p.settle(unit!, { kind: 'ok', renewDeadline: 0 })
    assert.equal((await accept).outcome, 'ok')
    assert.equal(p.held, 0)
  })

  it('revocation releases buffered records; losing the session settles queued acknowledgements as lock_lost', async () => {
    const p = new SharePartition('t', 0, 10)
    p.addAcquired([record(0), record(1), record(2)], [7])
    p.take(1, Date.now())
    assert.equal(p.releaseBuffered(), 2)
    assert.equal(p.buffered, 0)
    const accept0 = p.acknowledge({ topic: 't', partition: 0, offset: 0, deliveryCount: 1 }, 'accept')
    const unit = p.nextUnit()!
    assert.deepEqual(unit.map((e) => [e.offset, e.type]).sort(), [
      [0, 'accept'],
      [1, 'release'],
      [2, 'release'],
      [7, 'gap'],
    ])
    p.requeue(unit)
    const lost = p.loseAll('connection closed')
    assert.equal((await accept0).outcome, 'lock_lost')
    assert.equal(lost.results.length, 3, 'gaps are not reported')
    assert.ok(p.isIdle())
  })

  it("a record acquired again drops the earlier delivery's acknowledgement waiting to be resent after a split", async () => {
    const p = partitionWith([0, 1])
    const d = (offset: number) => ({ topic: 't', partition: 0, offset, deliveryCount: 1 })
    const accept0 = p.acknowledge(d(0), 'accept')
    const release1 = p.acknowledge(d(1), 'release')
    // The broker refused the unit (one offset not acquired any more): it is resent in halves.
    p.settle(p.nextUnit()!, {
      kind: 'invalid_record_state',
      error: new ShareError('LOCK_LOST', 'INVALID_RECORD_STATE', { kafkaError: 'INVALID_RECORD_STATE' }),
    })
    // Meanwhile offset 1's lock expired and the broker gave it to this member again. The wire
    // carries no delivery count: the earlier delivery's RELEASE, sent now, would release the new
    // delivery while it is being processed (and another member would get it at the same time).
    assert.deepEqual(p.addAcquired([record(1, 2)], []), [1])
    const sent: Array<[number, string]> = []
    for (let unit = p.nextUnit(); unit; unit = p.nextUnit()) {
      sent.push(...unit.map((e): [number, string] => [e.offset, e.type]))
      p.settle(unit, { kind: 'ok', renewDeadline: FAR })
    }
    assert.deepEqual(sent, [[0, 'accept']])
    // Both settled (awaiting a waiter left unsettled would hang, not fail).
    const outcomes: string[] = ['pending', 'pending']
    void release1.then((r) => {
      outcomes[0] = r.outcome
    })
    void accept0.then((r) => {
      outcomes[1] = r.outcome
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(outcomes, ['lock_lost', 'ok'])
  })

  it('a record acquired again (its earlier lock expired) replaces the earlier delivery', async () => {
    const p = partitionWith([4])
    const replaced = p.addAcquired([record(4, 2)], [])
    assert.deepEqual(replaced, [4])
    const old = await p.acknowledge({ topic: 't', partition: 0, offset: 4, deliveryCount: 1 }, 'accept')
    assert.equal(old.outcome, 'lock_lost')
    const [fresh] = p.take(1, Date.now()).records
    assert.equal(fresh?.deliveryCount, 2)
  })
})
