// Leader tracking for both engines: while a refresh fails or leaves a partition without a
// leader, refreshes back off 100 ms doubling to 2 s; concurrent refreshes share one; a refresh
// that finds every leader resets the backoff. Mock timers and clock, no broker.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { LeaderTracker, type LeaderTrackerHost } from '../../../src/engine/leader-tracker.ts'

/** Lets the tracker's promise chain settle (microtasks only: the mocked timers do not move). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

function host(answer: () => Promise<boolean>, ownRetries = true) {
  const at: number[] = []
  const failures: Error[] = []
  const h: LeaderTrackerHost = {
    refresh: () => {
      at.push(Date.now())
      return answer()
    },
    failed: (error) => failures.push(error),
    retriesOnItsOwn: () => ownRetries,
  }
  return { h, at, failures }
}

/** Moves the mocked clock `ms` forward one millisecond at a time, settling after each. */
async function advance(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1)
    await settle()
  }
}

describe('leader tracker', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }))
  afterEach(() => mock.timers.reset())

  it('a failing refresh is retried on its own timer 100, 200, 400, 800, 1600, 2000, 2000 ms apart', async () => {
    const { h, at, failures } = host(() => Promise.reject(new Error('no broker answers')))
    const tracker = new LeaderTracker(h)
    await tracker.refresh()
    await advance(9_000)
    tracker.close()
    const gaps = at.slice(1).map((t, i) => t - at[i]!)
    assert.deepEqual(gaps, [100, 200, 400, 800, 1600, 2000, 2000])
    assert.equal(failures.length, at.length)
    assert.equal(tracker.stale, true)
  })

  it('a leaderless partition backs off the same way; a refresh that finds every leader resets it', async () => {
    let leaders = false
    const { h, at } = host(async () => leaders)
    const tracker = new LeaderTracker(h)
    await tracker.refresh()
    await advance(700)
    assert.deepEqual(at, [0, 100, 300, 700])
    assert.equal(tracker.backoffMs, 800)
    leaders = true
    await advance(800)
    assert.equal(tracker.stale, false)
    assert.equal(tracker.backoffMs, 0)
    assert.equal(tracker.nextRefreshAt, 0)
    await advance(5000)
    assert.equal(at.length, 5, 'no refresh while every leader is known')
  })

  it('without its own retries, maybeRefresh respects the backoff and refresh() does not', async () => {
    const { h, at } = host(async () => false, false)
    const tracker = new LeaderTracker(h)
    await tracker.refresh()
    await advance(5000)
    assert.deepEqual(at, [0], 'the engine retries (its loops call maybeRefresh), not a timer')
    await tracker.maybeRefresh()
    assert.deepEqual(at, [0, 5000])
    await tracker.maybeRefresh()
    await advance(100)
    await tracker.maybeRefresh()
    assert.deepEqual(at, [0, 5000], 'within the 200 ms backoff')
    await advance(100)
    await tracker.maybeRefresh()
    assert.deepEqual(at, [0, 5000, 5200])
    await tracker.refresh()
    assert.deepEqual(at, [0, 5000, 5200, 5200], 'refresh() ignores the backoff (new partitions)')
  })

  it('concurrent refreshes share one request', async () => {
    let answer!: (all: boolean) => void
    const { h, at } = host(
      () =>
        new Promise<boolean>((resolve) => {
          answer = resolve
        }),
    )
    const tracker = new LeaderTracker(h)
    const a = tracker.refresh()
    const b = tracker.refresh()
    tracker.markStale()
    const c = tracker.maybeRefresh()
    answer(true)
    await Promise.all([a, b, c])
    assert.deepEqual(at, [0])
    assert.equal(tracker.stale, false)
  })

  it('close() stops the retries', async () => {
    const { h, at } = host(async () => false)
    const tracker = new LeaderTracker(h)
    await tracker.refresh()
    tracker.close()
    await advance(3000)
    await tracker.refresh()
    assert.deepEqual(at, [0])
  })
})
