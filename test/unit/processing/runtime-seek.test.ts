// Review of `ctx.seek()` in the runtime, on an in-memory source: a seek waits for the records
// already taken, then repositions the partition. These tests show where it never applies, or
// applies to a partition the source no longer has.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { EngineError } from '../../../src/engine/errors.ts'
import type { TopicPartition } from '../../../src/engine/types.ts'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// The engine's GroupConsumer.seek throws PARTITION_NOT_ASSIGNED for a partition the fetcher no
// longer has (group-consumer.ts, seek), and a revocation removes the partition from the fetcher
// before the runtime's onRevoked drain starts. A seek still pending when the revocation starts
// is applied by #release during the drain (run.active is still true while revoking): the
// source throws inside the unit's completion, the scheduler reports it as a bug and the whole
// runtime stops with a fatal error — an ordinary rebalance kills the app.
test('a seek pending when a revocation starts does not make the runtime fail', async () => {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  let started = false
  const h = createHarness({
    revokeTimeoutMs: 5000,
    topics: [
      {
        name: T,
        handler: async (record, ctx) => {
          if (record.offset === 0) {
            started = true
            // Continue from 5 once this record is done; it is still running when the revocation comes.
            ctx.seek(5)
            await gate
          }
        },
      },
    ],
  })
  // Like GroupConsumer.seek: a partition that is not (or no longer) fetched cannot be sought.
  const seek = h.source.seek.bind(h.source)
  h.source.seek = (partition: TopicPartition, offset: number) => {
    if (h.source.position(partition.topic, partition.partition) === undefined) {
      throw new EngineError(
        'PARTITION_NOT_ASSIGNED',
        `${partition.topic}#${partition.partition} is not assigned`,
      )
    }
    seek(partition, offset)
  }
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  await waitUntil(() => started, { message: 'record 0 running' })
  const revoked = h.source.revoke([{ topic: T, partition: 0 }], 'revoked')
  release()
  await revoked
  await sleep(50)
  try {
    assert.deepEqual(
      h.fatal.map((e) => e.message),
      [],
      'a revocation racing a pending seek is not a fatal error',
    )
  } finally {
    await h.runtime.stop()
  }
})
