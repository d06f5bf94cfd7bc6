import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { backoffDelay, DEFAULT_BACKOFF, RetryBackoffError } from '../../../src/processing/retry-backoff.ts'

describe('retry backoff', () => {
  it('defaults to 1 s doubling to 30 s', () => {
    assert.deepEqual(DEFAULT_BACKOFF, { initialMs: 1000, maxMs: 30_000, exponential: true })
    const delays = [1, 2, 3, 4, 5, 6, 7, 100].map((attempt) => backoffDelay(attempt))
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
  })

  it('keeps a constant delay when not exponential', () => {
    const opts = { initialMs: 250, maxMs: 30_000, exponential: false }
    assert.deepEqual(
      [1, 2, 10].map((attempt) => backoffDelay(attempt, opts)),
      [250, 250, 250],
    )
  })

  it('caps at maxMs, even below initialMs', () => {
    assert.equal(backoffDelay(1, { initialMs: 5000, maxMs: 2000, exponential: true }), 2000)
    assert.equal(backoffDelay(1, { initialMs: 5000, maxMs: 2000, exponential: false }), 2000)
  })

  it('stays finite and monotonic for any attempt', () => {
    const opts = fc.record({
      initialMs: fc.integer({ min: 0, max: 100_000 }),
      maxMs: fc.integer({ min: 0, max: 10_000_000 }),
      exponential: fc.boolean(),
    })
    fc.assert(
      fc.property(opts, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 1 }), (o, attempt) => {
        const delay = backoffDelay(attempt, o)
        assert.ok(Number.isFinite(delay) && delay >= 0 && delay <= o.maxMs)
        assert.ok(backoffDelay(attempt + 1, o) >= delay)
      }),
    )
    assert.equal(backoffDelay(10_000, { initialMs: 0, maxMs: 100, exponential: true }), 0)
  })

  it('rejects attempts that are not positive integers', () => {
    for (const attempt of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => backoffDelay(attempt),
        (error: unknown) => error instanceof RetryBackoffError && error.code === 'RETRY_BACKOFF',
      )
    }
  })
})
