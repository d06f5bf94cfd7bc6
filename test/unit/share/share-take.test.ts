// A share member's take spreads `max` evenly over its partitions, as the group consumer's
// fetcher does: one partition with a deep buffer does not starve the others on the member.
// Real SharePartition buffers, no broker (the take is pure bookkeeping).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SharePartition } from '../../../src/engine/share/share-partition.ts'
import { type ShareTakeHost, takeShareRecords } from '../../../src/engine/share/share-take.ts'
import type { ShareRecord } from '../../../src/engine/share/types.ts'

const FAR = Date.now() + 3_600_000

function record(partition: number, offset: number, lockDeadline = FAR): ShareRecord {
  return {
    topic: 't',
    partition,
    offset,
    timestamp: 0,
    key: null,
    value: Buffer.from(`v${offset}`),
    headers: [],
    leaderEpoch: 0,
    deliveryCount: 1,
    lockDeadline,
  }
}

function buffered(partition: number, count: number, lockDeadline = FAR): SharePartition {
  const p = new SharePartition('t', partition, 1000)
  p.addAcquired(
    Array.from({ length: count }, (_, i) => record(partition, i, lockDeadline)),
    [],
  )
  return p
}

function host(): ShareTakeHost & { lost: number[]; woken: number[] } {
  const lost: number[] = []
  const woken: number[] = []
  return {
    lost,
    woken,
    lockLost: (_p, offsets) => {
      lost.push(...offsets)
    },
    touched: (p) => {
      woken.push(p.partition)
    },
  }
}

function counts(out: ReturnType<typeof takeShareRecords>): Record<number, number> {
  return Object.fromEntries(out.map((r) => [r.partition, r.records.length]))
}

describe('share take', () => {
  it('two partitions buffered: a take of max N gives each half', () => {
    const a = buffered(0, 20)
    const b = buffered(1, 20)
    const out = takeShareRecords([a, b], 0, 10, undefined, Date.now(), host())
    assert.deepEqual(counts(out), { 0: 5, 1: 5 })
    assert.equal(a.buffered, 15)
    assert.equal(b.buffered, 15)
  })

  it('a partition with fewer than its share leaves the rest to the others', () => {
    const a = buffered(0, 2)
    const b = buffered(1, 20)
    const c = buffered(2, 20)
    const out = takeShareRecords([a, b, c], 0, 12, undefined, Date.now(), host())
    assert.deepEqual(counts(out), { 0: 2, 1: 5, 2: 5 })
  })

  it('records whose lock expired are released, and their share goes to the others', () => {
    const expired = buffered(0, 10, Date.now() - 1)
    const b = buffered(1, 20)
    const h = host()
    const out = takeShareRecords([expired, b], 0, 10, undefined, Date.now(), h)
    assert.deepEqual(counts(out), { 1: 10 })
    assert.equal(h.lost.length, 10)
    assert.deepEqual(new Set(h.woken), new Set([0, 1]))
  })

  it('the limit caps each share and marks a refused partition', () => {
    const a = buffered(0, 20)
    const b = buffered(1, 20)
    const out = takeShareRecords([a, b], 0, 10, (key) => (key === a.key ? 0 : 100), Date.now(), host())
    assert.deepEqual(counts(out), { 1: 10 })
    assert.equal(a.refused, true)
    assert.equal(b.refused, false)
  })

  it('records come in offset order per partition, the round-robin start first', () => {
    const a = buffered(0, 4)
    const b = buffered(1, 4)
    const out = takeShareRecords([a, b], 1, 4, undefined, Date.now(), host())
    assert.deepEqual(
      out.map((r) => [r.partition, r.records.map((x) => x.offset)]),
      [
        [1, [0, 1]],
        [0, [0, 1]],
      ],
    )
  })
})
