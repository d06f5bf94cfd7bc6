// The soak's summary of a member's samples: the least-squares slope of RSS and heap after the
// warm-up, in MB per 10 minutes (flat is 0, whatever the level); RSS first, max and last; the
// worst window's event-loop delay p99; the records handled (the last sample's count); every
// sample at or above the RSS bound counted; and one table row per member.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { MemberSample } from '../../../chaos/soak-member.ts'
import { slope, soakTable, summarize } from '../../../chaos/soak-report.ts'

const MB = 1024 * 1024

function sample(atS: number, rssMb: number, over: Partial<MemberSample> = {}): MemberSample {
  return {
    type: 'sample',
    atMs: atS * 1000,
    rss: rssMb * MB,
    heapUsed: 40 * MB,
    heapTotal: 60 * MB,
    external: 0,
    arrayBuffers: 0,
    newSpace: 8 * MB,
    oldSpace: 30 * MB,
    eldP99Ms: 5,
    eldMaxMs: 10,
    handled: atS * 100,
    errors: 0,
    ...over,
  }
}

describe('soak report', () => {
  it('slope: least squares, 0 for a flat or too short series', () => {
    assert.equal(slope([]), 0)
    assert.equal(slope([[1, 5]]), 0)
    assert.equal(
      slope([
        [1, 5],
        [1, 7],
      ]),
      0,
    )
    assert.equal(
      slope([
        [0, 3],
        [1, 3],
        [2, 3],
      ]),
      0,
    )
    assert.equal(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
      2,
    )
    // Noise around a line does not change the fit much.
    assert.ok(
      Math.abs(
        slope([
          [0, 0],
          [1, 3],
          [2, 2],
          [3, 7],
          [4, 8],
        ]) - 2,
      ) < 0.01,
    )
  })

  it('a flat RSS after the warm-up has slope 0, however steep the warm-up', () => {
    const samples = [sample(10, 100), sample(20, 200), ...[30, 40, 50, 60].map((t) => sample(t, 250))]
    const s = summarize('consumer', samples, { warmupMs: 30_000, rssBoundMb: 300 })
    assert.equal(s.rssSlopeMbPer10Min, 0)
    assert.equal(s.heapSlopeMbPer10Min, 0)
    assert.deepEqual([s.rssFirstMb, s.rssMaxMb, s.rssLastMb], [100, 250, 250])
    assert.equal(s.samples, 6)
    assert.equal(s.overBound, 0)
  })

  it('a growing RSS: 1 MB per minute after the warm-up is +10 MB per 10 minutes', () => {
    const samples = Array.from({ length: 30 }, (_, i) => sample(60 * (i + 1), 100 + i))
    const s = summarize('share', samples, { warmupMs: 0, rssBoundMb: 300 })
    assert.ok(Math.abs(s.rssSlopeMbPer10Min - 10) < 1e-9, String(s.rssSlopeMbPer10Min))
  })

  it('every sample at or above the bound is counted; the worst window gives the delay; handled is the last count', () => {
    const samples = [
      sample(10, 299),
      sample(20, 300, { eldP99Ms: 80, eldMaxMs: 120 }),
      sample(30, 310, { heapUsed: 90 * MB }),
      sample(40, 250, { handled: 12_345, errors: 2 }),
    ]
    const s = summarize('segments', samples, { warmupMs: 0, rssBoundMb: 300 })
    assert.equal(s.overBound, 2)
    assert.equal(s.rssMaxMb, 310)
    assert.equal(s.heapMaxMb, 90)
    assert.equal(s.eldP99Ms, 80)
    assert.equal(s.eldMaxMs, 120)
    assert.equal(s.handled, 12_345)
    assert.equal(s.errors, 2)
  })

  it('no samples: zeros, not NaN', () => {
    const s = summarize('share', [], { warmupMs: 0, rssBoundMb: 300 })
    assert.deepEqual(
      [s.samples, s.rssFirstMb, s.rssMaxMb, s.rssLastMb, s.rssSlopeMbPer10Min, s.handled],
      [0, 0, 0, 0, 0, 0],
    )
  })

  it('the table: one row per member, MB rounded, slopes signed', () => {
    const rows = soakTable([
      summarize('consumer', [sample(0, 100), sample(600, 105)], { warmupMs: 0, rssBoundMb: 300 }),
      summarize('share', [sample(0, 100), sample(600, 98)], { warmupMs: 0, rssBoundMb: 300 }),
    ]).split('\n')
    assert.equal(rows.length, 4)
    assert.match(
      rows[2]!,
      /^\| consumer group \| 2 \| 100 \/ 105 \/ 105 \| \+5\.0 \| 40 \| \+0\.0 \| 5\.0 \| 60,000 \| 0 \|$/,
    )
    assert.match(rows[3]!, /^\| share group \| 2 \| 100 \/ 100 \/ 98 \| −2\.0 \|/)
  })
})
