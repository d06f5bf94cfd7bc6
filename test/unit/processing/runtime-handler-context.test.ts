// The handler context's promises mean what they say, on an in-memory source: `ctx.commit()`
// resolves only when the commit was accepted.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// `ctx.commit()` rejects when the commit failed, like the engine's commit, which "resolves when
// the broker accepted every offset" (docs/architecture.md). A handler awaits ctx.commit() before
// an irreversible step, the reason to commit by hand: it must not go on when nothing was
// committed.
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
