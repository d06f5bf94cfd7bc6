import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { raw } from '../../../src/processing/deserializers.ts'
import { ConsumedRecord } from '../../../src/processing/record.ts'
import { routingFingerprint } from '../../../src/segments/fingerprint.ts'
import { defaultSegmentReducer, karafkaReducer } from '../../../src/segments/reducers.ts'
import { type RoutingErrorReport, segmentFilter, segmentOf } from '../../../src/segments/routing.ts'

function record(key: string | null, headers: Record<string, string> = {}): ConsumedRecord<unknown> {
  const raw_: ConsumerRecord = {
    topic: 't',
    partition: 0,
    offset: 7,
    timestamp: 0,
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from('{"not":"read"}'),
    headers: Object.entries(headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]),
    leaderEpoch: 0,
  }
  return new ConsumedRecord(raw_, raw())
}

describe('segment reducers', () => {
  it("karafkaReducer reproduces the seed's collision example (count 5)", () => {
    assert.deepEqual(
      ['0', '5', '14', '23'].map((k) => karafkaReducer(k, 5)),
      [3, 3, 1, 1],
    )
    assert.equal(karafkaReducer(null, 5), 0, 'nil.to_s is ""')
    assert.equal(karafkaReducer(Buffer.from('14'), 5), 1)
    assert.equal(karafkaReducer(14, 5), 1, 'numbers as their text, like Ruby to_s')
  })

  it('the default reducer spreads what Karafka collides, and never changes (golden values)', () => {
    // Karafka's byte sum puts these four keys on 2 segments of 5; the hash uses 3 of them.
    assert.deepEqual(
      ['0', '5', '14', '23'].map((k) => defaultSegmentReducer(k, 5)),
      [0, 0, 1, 2],
    )
    // Pinned: routing decides which process sees a key; a change would move keys between segments.
    assert.deepEqual(
      ['user-1', 'user-2', 'user-3', '', '0'].map((k) => defaultSegmentReducer(k, 7)),
      [3, 1, 3, 4, 3],
    )
    assert.equal(defaultSegmentReducer(null, 4), 0)
    assert.equal(defaultSegmentReducer(undefined, 4), 0)
    assert.equal(defaultSegmentReducer(Buffer.from('abc'), 9), defaultSegmentReducer('abc', 9))
  })

  it('the default reducer spreads 10,000 keys evenly over 4 segments (within 5 %)', () => {
    const counts = [0, 0, 0, 0]
    for (let i = 0; i < 10_000; i++) counts[defaultSegmentReducer(`user-${i}`, 4)]!++
    for (const c of counts) assert.ok(Math.abs(c - 2500) < 125, `counts ${counts}`)
  })
})

describe('segment routing', () => {
  const routing = {
    count: 3,
    partitioner: (r: ConsumedRecord<unknown>) => r.headers.get('user'),
    reducer: karafkaReducer,
  }

  it('routes by reducer(partitioner(record), count) without touching the payload', () => {
    const r = record('k', { user: '14' })
    assert.equal(segmentOf(r, routing), karafkaReducer('14', 3))
    assert.equal(r.deserialized, false)
  })

  it('a throwing partitioner or an invalid reducer result sends the record to segment 0 only, reported once', () => {
    const reports: Array<[string, string]> = []
    const report: RoutingErrorReport = (type, error) => reports.push([type, error.message])
    const throwing = {
      ...routing,
      partitioner: () => {
        throw new Error('no user header')
      },
    }
    const filters = [0, 1, 2].map((id) => segmentFilter(id, throwing, report))
    assert.deepEqual(
      filters.map((f) => f(record('k'))),
      [true, false, false],
    )
    const badReducer = { ...routing, reducer: () => 7 }
    assert.deepEqual(
      [0, 1, 2].map((id) => segmentFilter(id, badReducer, report)(record('k', { user: 'a' }))),
      [true, false, false],
    )
    const nan = { ...routing, reducer: () => Number.NaN }
    assert.equal(segmentOf(record('k'), nan, report), 0)
    assert.deepEqual(reports, [
      ['parallel_segments.partitioner.error', 'no user header'],
      ['parallel_segments.reducer.error', 'reducer returned 7; expected an integer in [0, 3)'],
      ['parallel_segments.reducer.error', 'reducer returned NaN; expected an integer in [0, 3)'],
    ])
  })
})

describe('segment routing: a partitioner that returns a Promise', () => {
  it('is a routing error (segment 0, reported), not a key: its text would send every record to one segment', () => {
    const reports: Array<[string, string]> = []
    const report: RoutingErrorReport = (type, error) => reports.push([type, error.message])
    const routing = {
      count: 3,
      partitioner: (r: ConsumedRecord<unknown>) => Promise.resolve(r.headers.get('user')),
      reducer: defaultSegmentReducer,
    }
    const users = ['a', 'b', 'c', 'd', 'e', 'f']
    const segments = users.map((u) => segmentOf(record('k', { user: u }), routing, report))
    assert.deepEqual(segments, [0, 0, 0, 0, 0, 0])
    assert.equal(reports.length, users.length)
    assert.ok(
      reports.every(
        ([type, message]) => type === 'parallel_segments.partitioner.error' && /Promise/.test(message),
      ),
      JSON.stringify(reports[0]),
    )
  })
})

describe('segment routing: a partitioner that returns an object', () => {
  it('is a routing error with the built-in reducers (segment 0, reported): its text "[object Object]" would send every record to one segment', () => {
    for (const reducer of [defaultSegmentReducer, karafkaReducer]) {
      const reports: Array<[string, string]> = []
      const report: RoutingErrorReport = (type, error) => reports.push([type, error.message])
      const routing = {
        count: 3,
        partitioner: (r: ConsumedRecord<unknown>) => ({ user: r.headers.get('user') }),
        reducer,
      }
      const users = ['a', 'b', 'c', 'd', 'e', 'f']
      const segments = users.map((u) => segmentOf(record('k', { user: u }), routing, report))
      assert.deepEqual(segments, [0, 0, 0, 0, 0, 0])
      assert.equal(reports.length, users.length)
      assert.ok(
        reports.every(
          ([type, message]) => type === 'parallel_segments.partitioner.error' && /object/.test(message),
        ),
        JSON.stringify(reports[0]),
      )
    }
  })

  it('is the key itself for a custom reducer, which may read it', () => {
    const reports: string[] = []
    const routing = {
      count: 3,
      partitioner: (r: ConsumedRecord<unknown>) => ({ n: Number(r.headers.get('n')) }),
      reducer: (value: unknown, count: number) => (value as { n: number }).n % count,
    }
    const segments = ['4', '5'].map((n) => segmentOf(record('k', { n }), routing, (t) => reports.push(t)))
    assert.deepEqual(segments, [1, 2])
    assert.deepEqual(reports, [])
  })

  it('bytes, strings, numbers and arrays of them stay keys', () => {
    const reports: string[] = []
    for (const value of [Buffer.from('u'), new Uint8Array([1]), 'u', 7, 7n, true, ['a', 1]]) {
      segmentOf(record('k'), { count: 3, partitioner: () => value, reducer: defaultSegmentReducer }, (t) =>
        reports.push(t),
      )
    }
    assert.deepEqual(reports, [])
  })
})

describe('routing fingerprint', () => {
  const partitioner = (r: ConsumedRecord<unknown>) => r.key
  it('changes with the count, the merge key, the partitioner or reducer source, or the routing version', () => {
    const base = { count: 3, mergeKey: '-parallel-', partitioner, reducer: defaultSegmentReducer }
    const f = routingFingerprint(base)
    assert.match(f, /^[A-Za-z0-9_-]{16}$/)
    assert.equal(routingFingerprint({ ...base }), f, 'stable')
    assert.notEqual(routingFingerprint({ ...base, count: 4 }), f)
    assert.notEqual(routingFingerprint({ ...base, mergeKey: '-seg-' }), f)
    assert.notEqual(routingFingerprint({ ...base, reducer: karafkaReducer }), f)
    assert.notEqual(
      routingFingerprint({ ...base, partitioner: (r: ConsumedRecord<unknown>) => r.headers.get('u') }),
      f,
    )
    // A routing version stands for the functions: refactoring them keeps the fingerprint.
    const v = routingFingerprint({ ...base, routingVersion: '2026-12' })
    assert.equal(
      routingFingerprint({
        ...base,
        partitioner: (r: ConsumedRecord<unknown>) => r.keyString,
        routingVersion: '2026-12',
      }),
      v,
    )
    assert.notEqual(routingFingerprint({ ...base, routingVersion: '2027-01' }), v)
  })
})
