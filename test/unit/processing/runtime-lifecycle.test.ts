// Revocation races, offset resets, fatal errors and shutdown of the runtime, on an in-memory
// source (only timing decides these; the broker tests cover the engine's side).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitUntil, within } from '../../support/kafka.ts'
import { createHarness } from '../../support/runtime-harness.ts'

const T = 't'

// The blocking style looks at the shutdown without waiting for in-flight records to reach 0: a
// record retrying forever must not keep stop() from ever returning.
test('blocking style: stop() returns within shutdownTimeoutMs with a record retrying forever, committing what is done', async () => {
  const handled = new Set<string>()
  const h = createHarness({
    shutdownTimeoutMs: 300,
    topics: [
      {
        name: T,
        processing: { style: 'blocking', capacity: 4, maxPollRecords: 50 },
        retries: { maxRetries: 1, backoff: { initialMs: 50, maxMs: 50, exponential: false } },
        handler: (record) => {
          if (record.partition === 0 && record.offset === 5) throw new Error('always fails')
          handled.add(`${record.partition}:${record.offset}`)
        },
      },
    ],
  })
  h.source.append(T, 0, 20)
  h.source.append(T, 1, 20)
  await h.runtime.start()
  await h.source.assign([0, 1].map((partition) => ({ topic: T, partition })))
  await waitUntil(() => [...handled].filter((id) => id.startsWith('1:')).length === 20, {
    message: 'partition 1 handled',
  })
  const stopped = h.runtime.stop()
  assert.notEqual(await within(stopped, 5000), 'timed out', 'stop() returned')
  assert.equal(h.committedOffset(T, 0), 5, 'partition 0 committed up to its failing record')
  assert.equal(h.committedOffset(T, 1), 20)
})

// A revocation's drain that finishes after the partition was assigned back leaves the new
// assignment's run alone; removing it would drop every later record of the partition.
test('a late revocation drain leaves the partition run of a newer assignment alone', async () => {
  let release!: () => void
  const blocked = new Promise<void>((r) => (release = r))
  let first = true
  const handled: number[] = []
  const h = createHarness({
    revokeTimeoutMs: 10_000,
    topics: [
      {
        name: T,
        handler: async (record) => {
          if (first) {
            first = false
            await blocked
          }
          handled.push(record.offset)
        },
      },
    ],
  })
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  await waitUntil(() => !first, { message: 'the first handler started' })
  const revoked = h.source.revoke([{ topic: T, partition: 0 }], 'revoked')
  // Assigned back while the old drain still waits for its running record.
  await h.source.assign([{ topic: T, partition: 0 }])
  release()
  await revoked
  h.source.append(T, 0, 10)
  try {
    await waitUntil(() => handled.filter((o) => o >= 10).length === 10, {
      message: 'the new assignment handles the records appended after the old drain',
    })
  } finally {
    await h.runtime.stop()
  }
  assert.equal(h.committedOffset(T, 0), 20)
})

// An offset reset below the tracker's position starts the partition over; it must not throw
// (OFFSET_TRACKER_ORDER) inside the loop, where nothing observes it and the process crashes.
test('an offset reset below the position starts the partition over, without a crash', async () => {
  const handled: number[] = []
  const h = createHarness({ topics: [{ name: T, handler: (record) => void handled.push(record.offset) }] })
  const resets = h.collect('partitions.position_reset')
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  await waitUntil(() => handled.length === 10, { message: 'first pass' })
  h.source.reset(T, 0, 0)
  try {
    await waitUntil(() => handled.length === 20, { message: 'read again from 0' })
    await waitUntil(() => h.committedOffset(T, 0) === 10, { message: 'committed at the end' })
  } finally {
    await h.runtime.stop()
  }
  assert.deepEqual(handled, [...Array(10).keys(), ...Array(10).keys()])
  assert.equal(resets.length, 1)
  assert.equal(h.fatal.length, 0)
})

// After a fatal membership error the runtime stops looping on the closed source (a microtask
// spin would starve the event loop) and reports the error.
test('a fatal error from the source stops the loop, is reported as fatal, and reaches the owner', async () => {
  const h = createHarness({ topics: [{ name: T, handler: () => {} }] })
  const errors = h.collect('error.occurred')
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  await waitUntil(() => h.committedOffset(T, 0) === 10, { message: 'processed' })
  const fatal = new Error('FENCED_INSTANCE_ID')
  h.source.hooks.onFatal(fatal)
  await sleep(50)
  const takes = h.source.takes
  await sleep(300)
  assert.ok(h.source.takes - takes <= 1, `the loop stopped (took ${h.source.takes - takes} more times)`)
  assert.deepEqual(h.fatal, [fatal])
  assert.equal(h.runtime.failure, fatal)
  assert.deepEqual(
    errors.filter((e) => e.fatal).map((e) => [e.type, e.error]),
    [['consumer.fatal', fatal]],
  )
  await h.runtime.stop()
})

test('a loop that throws is a fatal error, not an unhandled rejection', async () => {
  const h = createHarness({ topics: [{ name: T, handler: () => {} }] })
  await h.runtime.start()
  const broken = new Error('bug in a source')
  h.source.takeRecords = () => {
    throw broken
  }
  h.source.append(T, 0, 1)
  await h.source.assign([{ topic: T, partition: 0 }])
  await waitUntil(() => h.fatal.length === 1, { message: 'fatal reported' })
  assert.equal(h.fatal[0], broken)
  await h.runtime.stop()
})

test('lost partitions: handlers see the abort at once, nothing is committed, queued records are dropped', async () => {
  let aborted = false
  const h = createHarness({
    revokeTimeoutMs: 10_000,
    topics: [
      {
        name: T,
        handler: async (_record, ctx) => {
          await new Promise<void>((resolve) =>
            ctx.signal.addEventListener('abort', () => {
              aborted = true
              resolve()
            }),
          )
        },
      },
    ],
  })
  h.source.append(T, 0, 5)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  await sleep(50)
  const revoking = h.source.revoke([{ topic: T, partition: 0 }], 'revoked')
  await sleep(50)
  const commits = h.collect('offsets.committed')
  // Fenced while draining: the partitions are lost; the pending drain ends at once.
  await h.source.hooks.onRevoked([{ topic: T, partition: 0 }], 'lost')
  assert.equal(aborted, true)
  const outcome = await Promise.race([
    revoking.then(() => 'drained'),
    sleep(2000).then(() => 'still draining'),
  ])
  assert.equal(outcome, 'drained')
  assert.deepEqual(commits, [], 'nothing committed for lost partitions')
  await h.runtime.stop()
})

// After stop() resolves no timer of the runtime is left (e.g. a partition's idle wait re-arming
// while a record still retries), so the process exits.
test('after stop() nothing of the runtime keeps the process alive', async () => {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../../fixtures/runtime-exit.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const outcome = await within(exited, 20_000)
  if (outcome === 'timed out') child.kill('SIGKILL')
  assert.equal(outcome, 0, `the process exited on its own (output: ${output})`)
  assert.match(output, /stopped/)
})

test('a synchronous handler that seeks mid-batch: the rest of the batch is not processed, the seek applies', async () => {
  const handled: number[] = []
  let sought = false
  const h = createHarness({
    topics: [
      {
        name: T,
        handler: (record, ctx) => {
          handled.push(record.offset)
          if (record.offset === 5 && !sought) {
            sought = true
            ctx.seek(2)
          }
        },
      },
    ],
  })
  h.source.append(T, 0, 10)
  await h.runtime.start()
  await h.source.assign([{ topic: T, partition: 0 }])
  try {
    await waitUntil(() => h.committedOffset(T, 0) === 10, { message: 'committed at the end' })
  } finally {
    await h.runtime.stop()
  }
  assert.deepEqual(handled, [0, 1, 2, 3, 4, 5, 2, 3, 4, 5, 6, 7, 8, 9])
  assert.deepEqual(h.fatal, [])
})
