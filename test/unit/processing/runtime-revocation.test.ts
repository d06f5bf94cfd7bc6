// Review of the revocation drain, on an in-memory source.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitUntil, within } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// On a revocation, records waiting for a retry are dropped at once (#onRevoked →
// #abandonQueued) and left to the next owner. A record that was *running* when the revocation
// started and then fails is not: #afterFailure only checks `run.active` (still true while
// revoking), so it is scheduled for a retry, stays in flight, and the drain waits the whole
// revokeTimeoutMs (30 s by default) for a record that will be retried, not finished — the
// whole group's rebalance waits with it. Whether a failing record holds the rebalance depends
// only on whether it failed just before or just after the revocation started.
test('a record that fails while its partition is being revoked is left to the next owner at once', async () => {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  let started = false
  const h = createHarness({
    revokeTimeoutMs: 10_000,
    topics: [
      {
        name: T,
        retries: { maxRetries: 1, backoff: { initialMs: 20, maxMs: 20, exponential: false } },
        handler: async (record) => {
          if (record.offset !== 3) return
          if (!started) {
            started = true
            await gate
          }
          throw new Error('record 3 fails')
        },
      },
    ],
  })
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  await waitUntil(() => started, { message: 'record 3 running' })
  const revoked = h.source.revoke([{ topic: T, partition: 0 }], 'revoked')
  release()
  try {
    assert.notEqual(
      await within(revoked, 3000),
      'timed out',
      'the drain ended without waiting out revokeTimeoutMs (10 s) for a record that only retries',
    )
    assert.equal(h.committedOffset(T, 0), 3, 'records before the failing one committed')
  } finally {
    await revoked
    await h.runtime.stop()
  }
})
