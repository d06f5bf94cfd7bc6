// Lanes hold no memory for records they no longer hold: once a lane's backlog has run, the
// slots of its queue go too, however many records it once held at once.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { LaneScheduler, type Parking } from '../../../src/processing/lane-scheduler.ts'
import { waitUntil } from '../../support/kafka.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

interface Job {
  lane: string
}

const NO_PARKING: Parking<Job> = { parked: () => {} }

/**
 * Bytes in V8's large object space after a full collection: a queue's slots of 20,000 units
 * (32,768 slots, 256 KiB) live there, and little else does, so the count is exact, not noisy.
 */
function largeObjectBytes(): number {
  for (let i = 0; i < 3; i++) gc()
  return getHeapSpaceStatistics().find((s) => s.space_name === 'large_object_space')!.space_used_size
}

/**
 * The least of a few readings, a timer turn apart: right after a burst of promise callbacks V8
 * still holds buffers of its own for a turn or two, which a kept queue outlives.
 */
async function settledLargeObjectBytes(): Promise<number> {
  let least = Number.POSITIVE_INFINITY
  for (let i = 0; i < 5; i++) {
    await sleep(20)
    least = Math.min(least, largeObjectBytes())
  }
  return least
}

const LANES = 8
/** What one lane may hold at once under ordering 'partition' with capacity 5,000 (× LANE_LOOKAHEAD_FACTOR 4). */
const BACKLOG = 20_000

test('lanes that ran a large backlog keep no memory for it once they are empty', async () => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  let done = 0
  const s = new LaneScheduler<Job>(LANES, NO_PARKING, {
    failed: () => {},
    run: async () => {
      await gate
      done++
      return { done: true }
    },
  })
  const before = await settledLargeObjectBytes()
  for (let l = 0; l < LANES; l++)
    for (let i = 0; i < BACKLOG; i++) s.enqueue(`lane-${l}`, { lane: `lane-${l}` })
  release()
  await waitUntil(() => done === LANES * BACKLOG, { timeoutMs: 60_000, message: 'every unit ran' })
  const retained = (await settledLargeObjectBytes()) - before
  // Kept, the 8 lanes' slots would be 2 MiB.
  assert.ok(retained < 512 * 1024, `${(retained / 1024).toFixed(0)} KiB of queue slots kept by empty lanes`)
  assert.equal(s.running, 0)
})
