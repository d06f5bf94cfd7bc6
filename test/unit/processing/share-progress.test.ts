// Share progress (outcomes → acknowledgements, lock renewal, lost locks) against an in-memory
// acknowledger: which delivery each outcome settles, and that every lost lock is reported once.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ShareError } from '../../../src/engine/share/errors.ts'
import type {
  AcknowledgeType,
  AckResult,
  RecordDelivery,
  ShareRecord,
} from '../../../src/engine/share/types.ts'
import { EventBus, type MultilaneEvents } from '../../../src/instrumentation/events.ts'
import { ShareProgress } from '../../../src/processing/share-group/progress.ts'
import { promised } from '../../support/share-acknowledger.ts'

const T = 't'

function record(offset: number, deliveryCount: number, lockMs = 30_000): ShareRecord {
  return {
    topic: T,
    partition: 0,
    offset,
    timestamp: Date.now(),
    key: null,
    value: null,
    headers: [],
    leaderEpoch: 0,
    deliveryCount,
    lockDeadline: Date.now() + lockMs,
  }
}

/** Answers every acknowledgement with `answer(type)`; remembers what was sent. */
function setup(answer: (type: AcknowledgeType) => AckResult['outcome']) {
  return setupAnswering((delivery, type) => ({ ...delivery, type, outcome: answer(type) }))
}

/** Answers every acknowledgement with `answer(delivery, type)`; remembers what was sent. */
function setupAnswering(answer: (delivery: RecordDelivery, type: AcknowledgeType) => AckResult) {
  const events = new EventBus()
  const lost: Array<MultilaneEvents['share.lock_lost']> = []
  events.on('share.lock_lost', (e) => lost.push(e))
  const sent: Array<{ delivery: RecordDelivery; type: AcknowledgeType }> = []
  const progress = new ShareProgress({
    groupId: 'g',
    events,
    maxWaitMs: 500,
    member: promised({
      acknowledge: async (delivery, type) => {
        sent.push({ delivery: { ...delivery }, type })
        return answer(delivery, type)
      },
      flush: async () => {},
    }),
  })
  const partition = progress.open(
    { topic: T, partition: 0, intakeFreed() {} },
    { topic: T, partition: 0, position: 0, committed: null },
  )
  return { progress, partition, lost, sent }
}

describe('share progress', () => {
  it('after a late renewal the broker applied, a lock then really lost stops renewal', async () => {
    let renewals = 0
    const { progress, partition, lost } = setupAnswering((delivery, type) => {
      renewals += type === 'renew' ? 1 : 0
      const error = new ShareError('LOCK_LOST', 'gone')
      // First a late renewal the broker applied, then the lock is gone for good.
      return renewals === 1
        ? { ...delivery, type, outcome: 'lock_lost', error, lockDeadline: Date.now() + 100 }
        : { ...delivery, type, outcome: 'lock_lost', error }
    })
    progress.deliveries.handed([record(4, 1, 100)])
    partition.track(4)
    for (let i = 0; i < 100 && renewals < 2; i++) await sleep(20)
    // Sweeps every 200 ms: a lost lock renewed again and again would show within a second.
    await sleep(1000)
    progress.close()
    assert.equal(renewals, 2)
    assert.equal(lost.length, 1)
  })

  it('a renewal sent late but applied by the broker is reported lost once, and renewal goes on until the record ends', async () => {
    let renewals = 0
    const { progress, partition, lost, sent } = setupAnswering((delivery, type) => {
      const lockDeadline = Date.now() + 400
      // The first renewal went out after the member's deadline; the broker renewed it.
      if (type === 'renew' && ++renewals === 1) {
        const error = new ShareError('LOCK_LOST', 'renew sent after the lock deadline')
        return { ...delivery, type, outcome: 'lock_lost', error, lockDeadline }
      }
      return { ...delivery, type, outcome: 'ok', lockDeadline }
    })
    progress.deliveries.handed([record(3, 1, 100)])
    partition.track(3)
    for (let i = 0; i < 100 && renewals < 2; i++) await sleep(20)
    partition.finish(3, 'succeeded')
    await sleep(10)
    progress.close()
    assert.ok(renewals >= 2, `sent: ${sent.map((s) => s.type).join(', ')}`)
    assert.equal(sent.at(-1)?.type, 'accept')
    assert.equal(lost.length, 1)
  })

  it('a lock reported lost is reported once, also when the outcome is later refused as lock_lost', async () => {
    const { progress, partition, lost } = setup(() => 'lock_lost')
    progress.deliveries.handed([record(5, 1)])
    partition.track(5)
    progress.lost(T, 0, [5], 'the connection closed')
    partition.finish(5, 'succeeded')
    await sleep(10)
    progress.close()
    assert.deepEqual(
      lost.map((e) => [e.offset, e.deliveryCount, e.reason]),
      [[5, 1, 'the connection closed']],
    )
  })

  it('a lock lost after renewal turned out unavailable is still reported', async () => {
    const { progress, partition, lost, sent } = setup((type) => (type === 'renew' ? 'failed' : 'ok'))
    // A lock of 100 ms: the first sweep renews it, and renewal fails (unavailable).
    progress.deliveries.handed([record(7, 1, 100)])
    partition.track(7)
    for (let i = 0; i < 50 && !sent.some((s) => s.type === 'renew'); i++) await sleep(20)
    await sleep(10)
    assert.ok(
      sent.some((s) => s.type === 'renew'),
      'renewal was tried',
    )
    progress.lost(T, 0, [7], 'acquired again after the lock expired')
    progress.close()
    assert.equal(lost.length, 1)
  })

  it('of a fetched batch, the records in progress here are adopted and the others handed on, in order', () => {
    const { progress, partition } = setup(() => 'ok')
    progress.deliveries.handed([record(3, 1), record(5, 1)])
    partition.track(3)
    partition.track(5)
    const fresh = [record(6, 1), record(7, 1)]
    assert.equal(progress.notAdopted(`${T}\u00000`, fresh), fresh, 'none adopted: the same array')
    const batch = [record(2, 1), record(3, 2), record(4, 1), record(5, 2), record(6, 1)]
    assert.deepEqual(
      progress.notAdopted(`${T}\u00000`, batch).map((r) => r.offset),
      [2, 4, 6],
    )
    progress.close()
  })

  it('a record delivered again while in progress is adopted: its outcome settles the new delivery', async () => {
    const { progress, partition, lost, sent } = setup(() => 'ok')
    const first = record(3, 1)
    progress.deliveries.handed([first])
    partition.track(3)
    progress.lost(T, 0, [3], 'acquired again after the lock expired')
    assert.equal(progress.adopt(record(3, 2)), true, 'adopted')
    assert.equal(first.deliveryCount, 2, 'the record in progress stands for the new delivery')
    assert.equal(progress.adopt(record(4, 1)), false, 'a record not in progress is not adopted')
    partition.finish(3, 'succeeded')
    await sleep(10)
    progress.close()
    assert.deepEqual(
      sent
        .filter((s) => s.type !== 'renew')
        .map((s) => [s.delivery.offset, s.delivery.deliveryCount, s.type]),
      [[3, 2, 'accept']],
    )
    assert.equal(lost.length, 1)
  })

  it('after close, an outcome sends nothing (the member released what it held)', async () => {
    const { progress, partition, sent } = setup(() => 'ok')
    progress.deliveries.handed([record(1, 1)])
    partition.track(1)
    progress.close()
    partition.finish(1, 'succeeded')
    await sleep(10)
    assert.deepEqual(sent, [])
  })
})

describe('share progress: renewal timing', () => {
  it('a record taken late in its lock is renewed early enough after its first renewal (the margin follows the renewed lock)', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 })
    const LOCK_MS = 10_000
    const events = new EventBus()
    const lost: Array<MultilaneEvents['share.lock_lost']> = []
    events.on('share.lock_lost', (e) => lost.push(e))
    /** Time left on the lock when each renewal was asked for. */
    const leftAtRenewal: number[] = []
    let deadline = 0
    const progress = new ShareProgress({
      groupId: 'g',
      events,
      maxWaitMs: 500,
      member: promised({
        acknowledge: async (delivery, type) => {
          if (type !== 'renew') return { ...delivery, type, outcome: 'ok' }
          leftAtRenewal.push(deadline - Date.now())
          deadline = Date.now() + LOCK_MS
          return { ...delivery, type, outcome: 'ok', lockDeadline: deadline }
        },
        flush: async () => {},
      }),
    })
    const partition = progress.open(
      { topic: T, partition: 0, intakeFreed() {} },
      { topic: T, partition: 0, position: 0, committed: null },
    )
    // Fetched with a 10 s lock, it waited in the buffer: 600 ms of its lock are left when taken.
    const r = record(9, 1, 600)
    deadline = r.lockDeadline
    progress.deliveries.handed([r])
    partition.track(9)
    // The handler runs 3 lock durations; the sweep runs every 200 ms.
    for (let i = 0; i < (3 * LOCK_MS) / 100; i++) {
      t.mock.timers.tick(100)
      // The fake acknowledger's answer is a resolved promise: let it settle.
      await Promise.resolve()
      await Promise.resolve()
    }
    partition.finish(9, 'succeeded')
    progress.close()
    assert.ok(leftAtRenewal.length >= 3, `renewed ${leftAtRenewal.length} times`)
    // A renewal waits for the fetch in flight (up to maxWaitMs = 500 ms) before it is sent: once
    // the lock is known to be 10 s, every renewal must be asked for at least a fetch wait plus
    // a second ahead, as the documentation says — not with the 300 ms margin of the first.
    const late = leftAtRenewal.slice(1).filter((left) => left < 1000)
    assert.deepEqual(late, [], `time left at each renewal: ${leftAtRenewal.join(', ')} ms`)
    assert.deepEqual(lost, [])
  })
})

describe('share progress: renewal of short locks', () => {
  it('a lock of 1 s stays held while a 10 s handler runs, though each renewal waits out a fetch in flight', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 2_000_000 })
    const LOCK_MS = 1000
    const FETCH_WAIT_MS = 500
    const events = new EventBus()
    const lost: Array<MultilaneEvents['share.lock_lost']> = []
    events.on('share.lock_lost', (e) => lost.push(e))
    let deadline = 0
    let expired = 0
    const progress = new ShareProgress({
      groupId: 'g',
      events,
      maxWaitMs: FETCH_WAIT_MS,
      member: promised({
        acknowledge: (delivery, type) =>
          new Promise<AckResult>((resolve) => {
            if (type !== 'renew') return resolve({ ...delivery, type, outcome: 'ok' })
            // The worst case: a fetch was just sent, the renewal goes out when it is answered.
            setTimeout(() => {
              if (Date.now() >= deadline) {
                expired++
                resolve({ ...delivery, type, outcome: 'lock_lost' })
                return
              }
              deadline = Date.now() + LOCK_MS
              resolve({ ...delivery, type, outcome: 'ok', lockDeadline: deadline })
            }, FETCH_WAIT_MS)
          }),
        flush: async () => {},
      }),
    })
    const partition = progress.open(
      { topic: T, partition: 0, intakeFreed() {} },
      { topic: T, partition: 0, position: 0, committed: null },
    )
    const r = record(11, 1, LOCK_MS)
    deadline = r.lockDeadline
    progress.deliveries.handed([r])
    partition.track(11)
    for (let i = 0; i < 10_000 / 50; i++) {
      t.mock.timers.tick(50)
      await Promise.resolve()
      await Promise.resolve()
    }
    partition.finish(11, 'succeeded')
    progress.close()
    assert.equal(expired, 0, 'a renewal arrived after the lock expired')
    assert.deepEqual(lost, [])
  })

  it('a renewal that failed (not for want of RENEW) is tried again: the lock is not left to expire', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 3_000_000 })
    const LOCK_MS = 5000
    const events = new EventBus()
    let renewals = 0
    const progress = new ShareProgress({
      groupId: 'g',
      events,
      maxWaitMs: 500,
      member: promised({
        acknowledge: async (delivery, type) => {
          if (type !== 'renew') return { ...delivery, type, outcome: 'ok' }
          renewals++
          // The first renewal is refused with a retriable error (5 attempts); later ones apply.
          if (renewals === 1) {
            return {
              ...delivery,
              type,
              outcome: 'failed',
              error: new ShareError('ACKNOWLEDGE_FAILED', 'REQUEST_TIMED_OUT (5 attempts)'),
            }
          }
          return { ...delivery, type, outcome: 'ok', lockDeadline: Date.now() + LOCK_MS }
        },
        flush: async () => {},
      }),
    })
    const partition = progress.open(
      { topic: T, partition: 0, intakeFreed() {} },
      { topic: T, partition: 0, position: 0, committed: null },
    )
    progress.deliveries.handed([record(12, 1, LOCK_MS)])
    partition.track(12)
    for (let i = 0; i < LOCK_MS / 100; i++) {
      t.mock.timers.tick(100)
      await Promise.resolve()
      await Promise.resolve()
    }
    partition.finish(12, 'succeeded')
    progress.close()
    assert.ok(renewals >= 2, `renewals asked for within the lock: ${renewals}`)
  })

  it('a renewal refused because RENEW is unavailable is not asked for again', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 4_000_000 })
    const events = new EventBus()
    let renewals = 0
    const progress = new ShareProgress({
      groupId: 'g',
      events,
      maxWaitMs: 500,
      member: promised({
        acknowledge: async (delivery, type) => {
          if (type === 'renew') renewals++
          return {
            ...delivery,
            type,
            outcome: type === 'renew' ? 'failed' : 'ok',
            ...(type === 'renew' ? { error: new ShareError('RENEW_UNSUPPORTED', 'disabled') } : {}),
          }
        },
        flush: async () => {},
      }),
    })
    const partition = progress.open(
      { topic: T, partition: 0, intakeFreed() {} },
      { topic: T, partition: 0, position: 0, committed: null },
    )
    progress.deliveries.handed([record(13, 1, 3000)])
    partition.track(13)
    for (let i = 0; i < 50; i++) {
      t.mock.timers.tick(100)
      await Promise.resolve()
      await Promise.resolve()
    }
    partition.finish(13, 'succeeded')
    progress.close()
    assert.equal(renewals, 1)
  })
})

describe('share progress: ctx.commit()', () => {
  it('a flush with throwOnError rejects when an acknowledgement it waited for failed', async () => {
    const events = new EventBus()
    const progress = new ShareProgress({
      groupId: 'g',
      events,
      maxWaitMs: 500,
      member: promised({
        acknowledge: async (delivery, type) => ({
          ...delivery,
          type,
          outcome: 'failed',
          error: new ShareError('ACKNOWLEDGE_FAILED', 'UNKNOWN_SERVER_ERROR (5 attempts)'),
        }),
        flush: async () => {},
      }),
    })
    const partition = progress.open(
      { topic: T, partition: 0, intakeFreed() {} },
      { topic: T, partition: 0, position: 0, committed: null },
    )
    progress.deliveries.handed([record(20, 1)])
    partition.track(20)
    partition.finish(20, 'succeeded')
    await assert.rejects(progress.flush([partition], { throwOnError: true }), (error: Error) => {
      assert.match(error.message, /t#0@20/)
      return true
    })
    // Without throwOnError (the commit interval), the failure is only reported as an event.
    await progress.flush([partition])
    progress.close()
  })

  it('a flush with throwOnError resolves when the acknowledgements it waited for applied', async () => {
    const { progress, partition } = setup(() => 'ok')
    progress.deliveries.handed([record(21, 1)])
    partition.track(21)
    partition.finish(21, 'succeeded')
    await progress.flush([partition], { throwOnError: true })
    progress.close()
  })
})
