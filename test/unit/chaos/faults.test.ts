// The chaos harness picks a random worker to kill among those that have run at least a second
// since their restart and were killed fewer than 3 times within the last minute (the supervisor
// gives up on a worker that dies 5 times within 60 s); its random choices repeat with a seed.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pickVictim, seededRandom } from '../../../chaos/faults.ts'

const workers = [
  { worker: 0, pid: 100, since: 0 },
  { worker: 1, pid: 101, since: 0 },
  { worker: 2, pid: 102, since: 0 },
]

describe('pickVictim', () => {
  it('picks among the eligible workers by the random number', () => {
    assert.equal(pickVictim(workers, [], 10_000, () => 0)?.worker, 0)
    assert.equal(pickVictim(workers, [], 10_000, () => 0.5)?.worker, 1)
    assert.equal(pickVictim(workers, [], 10_000, () => 0.999)?.worker, 2)
  })

  it('passes over a worker killed 3 times within the last minute, until the first of them is a minute old', () => {
    const kills = [
      { worker: 0, t: 1_000 },
      { worker: 0, t: 5_000 },
      { worker: 0, t: 9_000 },
    ]
    assert.deepEqual(
      [0, 0.49, 0.5, 0.99].map((r) => pickVictim(workers, kills, 10_000, () => r)?.worker),
      [1, 1, 2, 2],
    )
    assert.equal(pickVictim(workers, kills, 61_000, () => 0)?.worker, 0)
  })

  it('passes over a worker restarted less than a second ago; none eligible: undefined', () => {
    const restarted = [{ worker: 0, pid: 200, since: 9_500 }]
    assert.equal(
      pickVictim(restarted, [], 10_000, () => 0),
      undefined,
    )
    assert.equal(pickVictim(restarted, [], 10_500, () => 0)?.pid, 200)
    assert.equal(
      pickVictim([], [], 10_000, () => 0),
      undefined,
    )
  })
})

describe('seededRandom', () => {
  it('repeats its sequence for a seed, stays in [0, 1), and differs between seeds', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    const c = seededRandom(43)
    const first = Array.from({ length: 100 }, () => a())
    assert.deepEqual(
      Array.from({ length: 100 }, () => b()),
      first,
    )
    assert.ok(first.every((x) => x >= 0 && x < 1))
    assert.notDeepEqual(
      Array.from({ length: 100 }, () => c()),
      first,
    )
  })
})
