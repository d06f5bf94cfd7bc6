// An app process buffers at most 25,000 fetched records and 32 MiB over all its consumer-group
// members: one member gets all of it, n members (segments placed in one process, several groups)
// a 1/n share each — never below 1,000 records and 1 MiB — and no partition more than the
// engine's per-partition limits or the member's total.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { APP_FETCH_BUFFER, memberBufferLimits } from '../../../src/app/fetch-budget.ts'
import { DEFAULT_BUFFER_LIMITS } from '../../../src/engine/fetch-options.ts'

const MiB = 1024 * 1024

describe('fetch buffer of an app process', () => {
  it('one member: the whole budget, partitions within the engine limits', () => {
    assert.deepEqual(memberBufferLimits(1), {
      maxRecords: 25_000,
      maxBytes: 32 * MiB,
      maxRecordsPerPartition: DEFAULT_BUFFER_LIMITS.maxRecordsPerPartition,
      maxBytesPerPartition: DEFAULT_BUFFER_LIMITS.maxBytesPerPartition,
    })
    assert.ok(APP_FETCH_BUFFER.maxBytes < DEFAULT_BUFFER_LIMITS.maxBytes)
  })

  it('n members share it: the sum stays within the budget', () => {
    for (const n of [2, 3, 4, 7, 25]) {
      const limits = memberBufferLimits(n)
      assert.ok(limits.maxRecords * n <= APP_FETCH_BUFFER.maxRecords, `n=${n}`)
      assert.ok(limits.maxBytes * n <= APP_FETCH_BUFFER.maxBytes, `n=${n}`)
      assert.ok(limits.maxRecordsPerPartition <= limits.maxRecords)
      assert.ok(limits.maxBytesPerPartition <= limits.maxBytes)
    }
    assert.deepEqual(memberBufferLimits(2), {
      maxRecords: 12_500,
      maxBytes: 16 * MiB,
      maxRecordsPerPartition: 10_000,
      maxBytesPerPartition: 8 * MiB,
    })
    assert.deepEqual(memberBufferLimits(4), {
      maxRecords: 6_250,
      maxBytes: 8 * MiB,
      maxRecordsPerPartition: 6_250,
      maxBytesPerPartition: 8 * MiB,
    })
  })

  it('many members: each keeps a floor of 1,000 records and 1 MiB', () => {
    assert.deepEqual(memberBufferLimits(100), {
      maxRecords: 1000,
      maxBytes: MiB,
      maxRecordsPerPartition: 1000,
      maxBytesPerPartition: MiB,
    })
  })

  it('no member (a share-group-only app) or a fraction counts as one', () => {
    assert.deepEqual(memberBufferLimits(0), memberBufferLimits(1))
    assert.deepEqual(memberBufferLimits(1.5), memberBufferLimits(1))
  })
})
