// The lane scheduler: units of one lane run one at a time in enqueue order, lanes in parallel up
// to the concurrency; a unit waiting for its retry frees its slot, keeps its lane blocked and is
// parked with the units behind it; drop and close take what has not started.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { LaneScheduler, type Parking, type UnitOutcome } from '../../../src/processing/lane-scheduler.ts'

interface Job {
  lane: string | null
  id: number
}

/** Parking nobody reads. */
const NO_PARKING: Parking<Job> = { parked: () => {} }

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (check()) {
        clearInterval(t)
        resolve()
      }
    }, 2)
  })
}

test('units of one lane run one at a time in order; lanes run in parallel up to the concurrency', async () => {
  let running = 0
  let maxRunning = 0
  const order = new Map<string, number[]>()
  const s = new LaneScheduler<Job>(4, NO_PARKING, {
    failed: () => {},
    run: async (job) => {
      running++
      maxRunning = Math.max(maxRunning, running)
      const list = order.get(job.lane!) ?? []
      list.push(job.id)
      order.set(job.lane!, list)
      await sleep(Math.random() * 3)
      running--
      return { done: true }
    },
  })
  for (let i = 0; i < 200; i++) s.enqueue(`lane-${i % 10}`, { lane: `lane-${i % 10}`, id: i })
  await until(() => [...order.values()].reduce((n, l) => n + l.length, 0) === 200 && running === 0)
  assert.equal(maxRunning, 4)
  for (const [lane, ids] of order) {
    const k = Number(lane.slice(5))
    assert.deepEqual(
      ids,
      Array.from({ length: 20 }, (_, i) => k + i * 10),
      `${lane} in enqueue order`,
    )
  }
})

test('a retry keeps its lane blocked, frees its slot, and runs the same unit again', async () => {
  const runs: number[] = []
  let failures = 0
  const s = new LaneScheduler<Job>(1, NO_PARKING, {
    failed: () => {},
    run: (job): UnitOutcome => {
      runs.push(job.id)
      if (job.id === 1 && failures < 2) {
        failures++
        return { done: false, retryAfterMs: 20 }
      }
      return { done: true }
    },
  })
  s.enqueue('a', { lane: 'a', id: 1 })
  s.enqueue('a', { lane: 'a', id: 2 })
  s.enqueue(null, { lane: null, id: 3 })
  await until(() => runs.length === 5)
  // Unit 3 (no lane) ran while unit 1 waited for its retries; unit 2 waited behind unit 1.
  assert.deepEqual(runs, [1, 3, 1, 1, 2])
})

test('synchronous outcomes are handled without recursion, even for many units', async () => {
  let ran = 0
  const s = new LaneScheduler<Job>(1000, NO_PARKING, {
    failed: () => {},
    run: () => {
      ran++
      return { done: true }
    },
  })
  for (let i = 0; i < 100_000; i++) s.enqueue(i % 2 ? null : 'x', { lane: null, id: i })
  await until(() => ran === 100_000)
  assert.equal(s.running, 0)
})

test('drop removes queued units but never the running head of a lane', async () => {
  let release!: () => void
  const started: number[] = []
  const s = new LaneScheduler<Job>(1, NO_PARKING, {
    failed: () => {},
    run: async (job) => {
      started.push(job.id)
      if (job.id === 1) await new Promise<void>((r) => (release = r))
      return { done: true }
    },
  })
  s.enqueue('a', { lane: 'a', id: 1 })
  s.enqueue('a', { lane: 'a', id: 2 })
  s.enqueue(null, { lane: null, id: 3 })
  s.enqueue('b', { lane: 'b', id: 4 })
  const dropped = s.drop((job) => job.id !== 4)
  assert.deepEqual(dropped.map((j) => j.id).sort(), [2, 3])
  assert.equal(s.queued('a'), 1, 'the running unit stays')
  release()
  await until(() => started.length === 2)
  assert.deepEqual(started, [1, 4])
})

test('a unit waiting for its retry and the units behind it in its lane are parked until the retry', async () => {
  const parked = new Set<number>()
  const events: string[] = []
  let failFirst = true
  const parking: Parking<Job> = {
    parked: (job, p) => {
      events.push(`${p ? 'park' : 'unpark'} ${job.id}`)
      if (p) parked.add(job.id)
      else parked.delete(job.id)
    },
  }
  const s = new LaneScheduler<Job>(2, parking, {
    failed: () => {},
    run: (job): UnitOutcome => {
      if (job.id === 1 && failFirst) {
        failFirst = false
        return { done: false, retryAfterMs: 30 }
      }
      return { done: true }
    },
  })
  s.enqueue('a', { lane: 'a', id: 1 })
  assert.deepEqual([...parked], [1], 'the failed unit waits parked')
  s.enqueue('a', { lane: 'a', id: 2 })
  assert.deepEqual([...parked].sort(), [1, 2], 'a unit queued behind it is parked at once')
  s.enqueue(null, { lane: null, id: 3 })
  assert.ok(!parked.has(3), 'other lanes are not')
  await until(() => s.queued('a') === 0)
  assert.equal(parked.size, 0)
  assert.deepEqual(events, ['park 1', 'park 2', 'unpark 1', 'unpark 2'])
})

test('drop and close also take units waiting for a retry, and cancel their timers', async () => {
  let runs = 0
  const s = new LaneScheduler<Job>(2, NO_PARKING, {
    failed: () => {},
    run: (): UnitOutcome => {
      runs++
      return { done: false, retryAfterMs: 10_000 }
    },
  })
  s.enqueue('a', { lane: 'a', id: 1 })
  s.enqueue('a', { lane: 'a', id: 2 })
  s.enqueue(null, { lane: null, id: 3 })
  assert.equal(runs, 2)
  assert.deepEqual(
    s
      .drop((j) => j.lane === 'a')
      .map((j) => j.id)
      .sort(),
    [1, 2],
  )
  assert.equal(s.queued('a'), 0)
  assert.deepEqual(
    s.close().map((j) => j.id),
    [3],
  )
  // No timer is left: the test process would otherwise wait 10 s before it ends.
  await sleep(20)
  assert.equal(runs, 2)
})

test('a unit whose run throws (a bug) is reported and does not block its lane', async () => {
  const failed: number[] = []
  const ran: number[] = []
  const s = new LaneScheduler<Job>(1, NO_PARKING, {
    failed: (job) => failed.push(job.id),
    run: (job): UnitOutcome => {
      ran.push(job.id)
      if (job.id === 1) throw new Error('bug')
      return { done: true }
    },
  })
  s.enqueue('a', { lane: 'a', id: 1 })
  s.enqueue('a', { lane: 'a', id: 2 })
  // The lane goes on at once, or in a later turn when the throw used up the time slice (a
  // loaded machine: seen once in a full run).
  await until(() => ran.length === 2)
  assert.deepEqual(failed, [1])
  assert.deepEqual(ran, [1, 2])
})
