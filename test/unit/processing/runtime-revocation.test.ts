// The revocation drain, on an in-memory source: it waits only for records that can still
// finish; records that will be retried are left to the next owner at once, because the whole
// group's rebalance waits for the drain.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitUntil, within } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// On a revocation, records waiting for a retry are left to the next owner at once. So is a
// record that was running when the revocation started and then fails: scheduling its retry
// would keep it in flight and make the drain wait the whole revokeTimeoutMs (30 s by default)
// for a record that will not finish here, with the whole group's rebalance waiting too.
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
