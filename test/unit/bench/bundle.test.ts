// What a result bundle keeps of the workload never holds credentials, and the percentile
// distributions it stores (.hgrm) read back onto the report's shared percentile axis.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import hdr from 'hdr-histogram-js'
import { redact } from '../../../src/bench/bundle.ts'
import { parseHgrm, percentileGrid, resample } from '../../../src/bench/hgrm.ts'

test('SASL usernames and passwords, and TLS keys, are redacted; the rest stays as written', () => {
  const source =
    '# my cluster\nname: x\ntarget:\n  bootstrap: h:1\n  sasl: { mechanism: PLAIN, username: u, password: secret }\n'
  const redacted = redact(source)
  assert.doesNotMatch(redacted, /secret|username: u\b/)
  assert.match(redacted, /# my cluster/)
  assert.match(redacted, /bootstrap: h:1/)
  assert.match(redacted, /mechanism: PLAIN/)
  assert.equal(redact('name: x\ntarget: local\n'), 'name: x\ntarget: local\n')
})

test('an .hgrm text reads back into rows and resamples onto the percentile grid', () => {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
  })
  for (let v = 1; v <= 1000; v++) h.recordValue(v)
  const rows = parseHgrm(h.outputPercentileDistribution(5, 1))
  assert.ok(rows.length > 20)
  assert.equal(rows.at(-1)!.totalCount, 1000)
  const grid = percentileGrid()
  assert.equal(grid[0], 0)
  assert.ok(Math.abs(grid[20]! - 0.9) < 1e-12 && Math.abs(grid[40]! - 0.99) < 1e-12)
  const values = resample(rows, grid)
  // The first row at or above each percentile (the .hgrm has rows at its own ticks).
  assert.ok(values[20]! >= 900 && values[20]! <= 905, String(values[20]))
  assert.ok(values[40]! >= 990 && values[40]! <= 995, String(values[40]))
  // 1000 values tell nothing beyond the 99.9th percentile.
  assert.equal(values[61], null)
  assert.deepEqual(resample([], grid.slice(0, 3)), [null, null, null])
})
