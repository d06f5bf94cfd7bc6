// Review of the handler context's API semantics, on an in-memory source.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// `ctx.commit()` returns a promise, and the engine's commit "resolves when the broker accepted
// every offset" (docs/architecture.md). The runtime's commitPartition goes through #flushRuns,
// which turns every failure into an `error.occurred` event and resolves: a handler that awaits
// ctx.commit() before an irreversible step (the reason to commit by hand) goes on although
// nothing was committed. The same for a partition already revoked or lost: nothing is sent and
// the promise resolves.
test('ctx.commit() rejects when the commit failed', async () => {
  let failing = false
  let outcome: 'resolved' | 'rejected' | undefined
  const h = createHarness({
    commitFails: () => failing,
    topics: [
      {
        name: T,
        processing: { commitIntervalMs: 60_000 },
        handler: async (record, ctx) => {
          if (record.offset !== 5) return
          failing = true
          outcome = await ctx.commit().then(
            () => 'resolved' as const,
            () => 'rejected' as const,
          )
        },
      },
    ],
  })
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => outcome !== undefined, { message: 'ctx.commit() settled' })
    assert.equal(h.committedOffset(T, 0), undefined, 'nothing was committed')
    assert.equal(outcome, 'rejected', 'the handler learns that its commit failed')
  } finally {
    failing = false
    await h.runtime.stop()
  }
})
