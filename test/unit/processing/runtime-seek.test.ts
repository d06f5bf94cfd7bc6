// `ctx.seek()` in the runtime, on an in-memory source: a seek lets the records already running
// finish, drops the rest of what was taken, then repositions the partition. It applies although
// records of the partition fail meanwhile, is never applied to a partition the member no longer
// has, and never throws at the caller for a partition that only has records waiting to retry.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { EngineError } from '../../../src/engine/errors.ts'
import type { TopicPartition } from '../../../src/engine/types.ts'
import type { HandlerContext } from '../../../src/processing/handler-context.ts'
import { waitUntil } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// A seek still pending when its partition is revoked is dropped, not applied: the engine's
// GroupConsumer.seek throws PARTITION_NOT_ASSIGNED for a partition the fetcher no longer has,
// and a revocation removes the partition from the fetcher before the runtime's drain starts.
// Applying it would make an ordinary rebalance stop the whole runtime with a fatal error.
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

// A seek applies once the records running when it was asked have finished (docs/processing.md).
// A record that was running and then fails belongs to the old position, which the seek left:
// its retries must not keep the seek pending, and the partition taking nothing, for as long as
// it fails (forever without a dead letter queue).
test('a seek applies although another record of the partition fails while it is pending', async () => {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const handled: number[] = []
  let sought = false
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 4, ordering: 'unordered' },
        retries: { maxRetries: 1, backoff: { initialMs: 20, maxMs: 20, exponential: false } },
        handler: async (record, ctx) => {
          if (record.offset === 0 && !sought) {
            // Fails for good once the seek was asked (no dead letter queue: retried forever).
            await gate
            throw new Error('record 0 fails')
          }
          if (record.offset === 0) throw new Error('record 0 fails')
          if (record.offset === 1 && !sought) {
            sought = true
            ctx.seek(5)
            release()
            return
          }
          handled.push(record.offset)
        },
      },
    ],
  })
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => [5, 6, 7, 8, 9].every((o) => handled.includes(o)), {
      timeoutMs: 3000,
      message: `records 5-9 handled after the seek (handled ${JSON.stringify(handled)})`,
    })
  } finally {
    await h.runtime.stop()
  }
})

// A seek asked while none of the partition's records runs but some wait for a retry (here: a
// ctx kept from a finished record) applies exactly once: dropping the waiting records empties
// the partition's in-flight count, which applies the seek, and the seek must not then be
// applied a second time (with no target, which would throw OFFSET_TRACKER_INVALID at the caller).
test('seek called while the partition only has records waiting for a retry does not throw', async () => {
  let kept: HandlerContext | undefined
  const handled: number[] = []
  let failing = true
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 4, ordering: 'partition' },
        retries: { maxRetries: 1, backoff: { initialMs: 60_000, maxMs: 60_000, exponential: false } },
        handler: (record, ctx) => {
          if (record.offset === 0) kept = ctx
          if (record.offset === 3 && failing) throw new Error('record 3 waits a minute for its retry')
          handled.push(record.offset)
        },
      },
    ],
  })
  const errors = h.collect('error.occurred')
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => errors.some((e) => e.type === 'consumer.handler.error'), {
      message: 'record 3 failed and waits',
    })
    failing = false
    assert.doesNotThrow(() => kept!.seek(7))
    await waitUntil(() => handled.includes(9), { timeoutMs: 3000, message: 'records from 7 on handled' })
  } finally {
    await h.runtime.stop()
  }
})

// The documented rule (HandlerContext.seek, docs/processing.md): the records running when the
// seek is asked finish, the rest of what was taken is dropped. A seek means "continue from
// there", and a seek back fetches the dropped ones again, so nothing is lost.
test('seek: records already running finish; records taken but not started are dropped', async () => {
  const handled: number[] = []
  let sought = false
  let takenAtSeek = 0
  const h = createHarness({
    topics: [
      {
        name: T,
        processing: { capacity: 4, ordering: 'partition' },
        handler: async (record, ctx) => {
          handled.push(record.offset)
          if (record.offset === 2 && !sought) {
            sought = true
            // Records after this one are taken by now (up to 4 × capacity); continue from 30.
            takenAtSeek = h.source.handed.get('t\u00000') ?? 0
            ctx.seek(30)
          }
        },
      },
    ],
  })
  h.source.append(T, 0, 40)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => handled.includes(39), { message: 'the partition continued from 30' })
  } finally {
    await h.runtime.stop()
  }
  assert.ok(takenAtSeek > 3, `records after the seeking one were taken before the seek (${takenAtSeek})`)
  assert.deepEqual(handled, [0, 1, 2, ...Array.from({ length: 10 }, (_, i) => 30 + i)])
})
