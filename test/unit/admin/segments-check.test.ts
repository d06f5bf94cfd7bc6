// segments check's accumulation, without a broker: per-segment records, shares, distinct keys,
// idle and overloaded flags, routing errors, and the other reducers on the same values.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keyIdentity, SegmentSample } from '../../../src/admin/segments-check.ts'
import { createApp } from '../../../src/app/app.ts'
import type { ParallelSegmentsOptions } from '../../../src/app/options/parallel-segments.ts'
import type { ConsumerRecord } from '../../../src/engine/types.ts'
import { raw } from '../../../src/processing/deserializers.ts'
import { ConsumedRecord } from '../../../src/processing/record.ts'
import { karafkaReducer } from '../../../src/segments/reducers.ts'

function routing(options: ParallelSegmentsOptions) {
  const app = createApp({ kafka: { bootstrap: '127.0.0.1:9092' }, logger: false })
  app.consumerGroup('g', (g) => {
    g.parallelSegments(options)
    g.topic('t', { handler: () => {} })
  })
  return app.definition().consumerGroups[0]!.parallelSegments
}

function record(key: string | null, offset = 0): ConsumedRecord<unknown> {
  const r: ConsumerRecord = {
    topic: 't',
    partition: 0,
    offset,
    timestamp: 0,
    key: key === null ? null : Buffer.from(key),
    value: null,
    headers: [],
    leaderEpoch: 0,
  }
  return new ConsumedRecord(r, raw())
}

describe('SegmentSample', () => {
  it("counts records, shares and distinct keys; flags idle and over 1.5× fair share (the seed's keys)", () => {
    const sample = new SegmentSample(
      routing({ count: 5, partitioner: (r) => r.keyString, reducer: karafkaReducer }),
    )
    for (let i = 0; i < 100; i++) sample.add(record(['0', '5', '14', '23'][i % 4]!))
    const result = sample.result()
    assert.equal(result.sampled, 100)
    assert.deepEqual(
      result.segments.map((s) => [s.records, s.share, s.keys, s.idle, s.hot]),
      [
        [0, 0, 0, true, false],
        [50, 0.5, 2, false, true],
        [0, 0, 0, true, false],
        [50, 0.5, 2, false, true],
        [0, 0, 0, true, false],
      ],
    )
    assert.deepEqual(
      result.reducers.map((r) => [r.reducer, r.records, r.idle, r.hot]),
      [
        ['app', [0, 50, 0, 50, 0], 3, 2],
        ['default', [50, 25, 25, 0, 0], 2, 1],
        ['karafka', [0, 50, 0, 50, 0], 3, 2],
      ],
    )
  })

  it('routing errors go to segment 0 and are counted; the other reducers put them there too', () => {
    const sample = new SegmentSample(
      routing({
        count: 2,
        partitioner: (r) => {
          if (r.keyString === 'bad') throw new Error('no key')
          return r.keyString
        },
        reducer: (v) => (v === 'out' ? 7 : 1),
      }),
    )
    for (const k of ['bad', 'out', 'a', 'b']) sample.add(record(k))
    const result = sample.result()
    assert.equal(result.routingErrors, 2)
    assert.deepEqual(
      result.segments.map((s) => [s.records, s.keys]),
      [
        [2, 1],
        [2, 2],
      ],
      'the partitioner error has no key; the reducer error keeps its value',
    )
    assert.equal(
      result.reducers[1]!.records.reduce((a, b) => a + b),
      4,
    )
  })

  it('an empty sample flags nothing', () => {
    const result = new SegmentSample(routing({ count: 3, partitioner: (r) => r.keyString })).result()
    assert.deepEqual(
      result.segments.map((s) => [s.idle, s.hot]),
      [
        [false, false],
        [false, false],
        [false, false],
      ],
    )
  })
})

describe('keyIdentity', () => {
  it('equal values are one key; types are told apart', () => {
    assert.equal(keyIdentity(Buffer.from('a')), keyIdentity(new Uint8Array([97])))
    assert.notEqual(keyIdentity('1'), keyIdentity(1))
    assert.notEqual(keyIdentity(null), keyIdentity(undefined))
    assert.equal(keyIdentity({ a: 1 }), keyIdentity({ a: 1 }))
  })
})
