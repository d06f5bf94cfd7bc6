// Share progress over the real share partition of the member (the engine's bookkeeping), which
// tells a held record's listener synchronously: from inside the request's answer (settle), and
// from inside a final acknowledgement that supersedes the record's queued renewal. Whatever the
// order the answers come in:
// - each record handed out ends with exactly one final acknowledgement, of its own delivery;
// - a flush with throwOnError resolves once every final acknowledgement queued before it is
//   answered, and rejects when one of them was not applied;
// - a renewal superseded by the final acknowledgement reports nothing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { OffsetTable } from '../../../src/engine/offset-table.ts'
import { ShareError } from '../../../src/engine/share/errors.ts'
import { SharePartition } from '../../../src/engine/share/share-partition.ts'
import type { ShareRecord } from '../../../src/engine/share/types.ts'
import { EventBus, type MultilaneEvents } from '../../../src/instrumentation/events.ts'
import type { Held } from '../../../src/processing/share-group/held.ts'
import { ShareProgress } from '../../../src/processing/share-group/progress.ts'

const T = 't'
const FAR = Date.now() + 3_600_000

function record(offset: number, deliveryCount = 1, lockDeadline = FAR): ShareRecord {
  return {
    topic: T,
    partition: 0,
    offset,
    timestamp: 0,
    key: null,
    value: null,
    headers: [],
    leaderEpoch: 0,
    deliveryCount,
    lockDeadline,
  }
}

function setup(offsets: number[]) {
  const member = new SharePartition(T, 0, 1000)
  member.addAcquired(
    offsets.map((o) => record(o)),
    [],
  )
  const { records } = member.take(offsets.length, Date.now())
  const events = new EventBus()
  const seen: string[] = []
  for (const name of ['share.lock_lost', 'share.released', 'share.rejected', 'share.lock_renewed'] as const)
    events.on(name, (e: MultilaneEvents[typeof name]) => seen.push(`${name}@${e.offset}`))
  const progress = new ShareProgress({
    groupId: 'g',
    events,
    maxWaitMs: 500,
    member: {
      acknowledge: (delivery, type, listener) => member.acknowledgeTo(delivery, type, listener),
      flush: async () => {},
    },
  })
  const partition = progress.open(
    { topic: T, partition: 0, intakeFreed() {} },
    { topic: T, partition: 0, position: 0, committed: null },
  )
  progress.deliveries.handed(records)
  for (const r of records) partition.track(r.offset)
  return { member, progress, partition, seen }
}

/** Settles of a flush, observed without awaiting it. */
function observe(p: Promise<void>): { state: string } {
  const o = { state: 'pending' }
  p.then(
    () => {
      o.state = 'resolved'
    },
    (e: { code?: string }) => {
      o.state = `rejected ${e.code}`
    },
  )
  return o
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('share progress over the member', () => {
  it('a flush waits for the final acknowledgements queued before it, answered in any order', async () => {
    const { member, progress, partition } = setup([0, 1, 2, 3])
    partition.finish(0, 'succeeded')
    partition.finish(1, 'succeeded')
    const first = member.nextUnit()!
    partition.finish(2, 'succeeded')
    const flush = observe(progress.flush([partition], { throwOnError: true }))
    partition.finish(3, 'succeeded')
    const second = member.nextUnit()!
    // The later request is answered first: the flush still waits for the earlier one.
    member.settle(second, { kind: 'ok', renewDeadline: FAR })
    await settle()
    assert.equal(flush.state, 'pending')
    member.settle(first, { kind: 'ok', renewDeadline: FAR })
    await settle()
    assert.equal(flush.state, 'resolved')
    assert.equal(member.counters.accepted, 4)
    assert.equal(member.held, 0)
    progress.close()
  })

  it('a flush with throwOnError rejects when an acknowledgement queued before it lost its lock', async () => {
    const { member, progress, partition, seen } = setup([0, 1])
    partition.finish(0, 'succeeded')
    partition.finish(1, 'rejected')
    const flush = observe(progress.flush([partition], { throwOnError: true }))
    member.settle(member.nextUnit()!, { kind: 'lock_lost', error: new ShareError('LOCK_LOST', 'gone') })
    await settle()
    assert.equal(flush.state, 'rejected LOCK_LOST')
    assert.deepEqual(seen.sort(), ['share.lock_lost@0', 'share.lock_lost@1'])
    progress.close()
  })

  it('a final acknowledgement superseding a queued renewal sends one acknowledgement and reports nothing', async () => {
    const { member, progress, partition, seen } = setup([5])
    // The renewal the sweep would queue: the record's own Held is its listener.
    const h = (partition as unknown as { held: OffsetTable<Held> }).held.get(5)!
    member.acknowledgeTo(h, 'renew', h)
    partition.finish(5, 'succeeded')
    const unit = member.nextUnit()!
    assert.deepEqual(
      unit.map((e) => [e.offset, e.deliveryCount, e.type]),
      [[5, 1, 'accept']],
    )
    const flush = observe(progress.flush([partition], { throwOnError: true }))
    member.settle(unit, { kind: 'ok', renewDeadline: FAR })
    await settle()
    assert.equal(flush.state, 'resolved')
    assert.deepEqual(seen, [])
    assert.equal(member.counters.accepted, 1)
    progress.close()
  })

  it('a record delivered again while in progress is accepted once, for its new delivery', async () => {
    const { member, progress, partition } = setup([7, 8])
    // The lock of 7 expired; the broker gave it to this member again.
    member.addAcquired([record(7, 2)], [])
    const again = member.take(1, Date.now()).records
    assert.deepEqual(progress.notAdopted(`${T}\u00000`, again), [], 'adopted: not run twice')
    partition.finish(8, 'succeeded')
    partition.finish(7, 'succeeded')
    const unit = member.nextUnit()!
    assert.deepEqual(
      unit.map((e) => [e.offset, e.deliveryCount, e.type]),
      [
        [7, 2, 'accept'],
        [8, 1, 'accept'],
      ],
    )
    const flush = observe(progress.flush([partition], { throwOnError: true }))
    member.settle(unit, { kind: 'ok', renewDeadline: FAR })
    await settle()
    assert.equal(flush.state, 'resolved')
    assert.equal(member.held, 0)
    progress.close()
  })
})
