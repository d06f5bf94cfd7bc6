// The process swarm's pure parts: how segments are spread over workers, and when a failing
// worker is restarted (with what delay) or given up on.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import { planWorkers, RESTART_DEFAULTS, RestartPolicy } from '../../../src/app/swarm.ts'

function groups(...counts: number[]) {
  const app = createApp({ kafka: { bootstrap: '127.0.0.1:9092' }, logger: false })
  counts.forEach((count, i) => {
    app.consumerGroup(`g${i}`, (g) => {
      if (count > 1) g.parallelSegments({ count, partitioner: (r) => r.keyString })
      g.topic('t', { handler: () => {} })
    })
  })
  return app.definition().consumerGroups
}

describe('planWorkers', () => {
  it('worker w gets the ids i with i % N === w, up to the largest count', () => {
    assert.deepEqual(planWorkers(groups(3), 3), {
      workers: [
        { worker: 0, segments: [0] },
        { worker: 1, segments: [1] },
        { worker: 2, segments: [2] },
      ],
      idle: [],
    })
    assert.deepEqual(
      planWorkers(groups(5, 2), 2).workers.map((w) => w.segments),
      [
        [0, 2, 4],
        [1, 3],
      ],
    )
  })

  it('spreads the given segments by their position', () => {
    assert.deepEqual(
      planWorkers(groups(6), 2, [1, 4, 5]).workers.map((w) => w.segments),
      [[1, 5], [4]],
    )
  })

  it('leaves out workers with nothing to run, unless the app has unsegmented groups', () => {
    assert.deepEqual(planWorkers(groups(2), 4), {
      workers: [
        { worker: 0, segments: [0] },
        { worker: 1, segments: [1] },
      ],
      idle: [2, 3],
    })
    assert.deepEqual(
      planWorkers(groups(2, 1), 3).workers.map((w) => w.segments),
      [[0], [1], []],
    )
  })

  it('with a share group every worker runs (a share member), segments or not', () => {
    assert.deepEqual(planWorkers(groups(2), 4, undefined, 1), {
      workers: [
        { worker: 0, segments: [0] },
        { worker: 1, segments: [1] },
        { worker: 2, segments: [] },
        { worker: 3, segments: [] },
      ],
      idle: [],
    })
  })

  it('without segmented groups every worker runs ordinary members; segments are refused', () => {
    assert.deepEqual(planWorkers(groups(1), 2).workers, [
      { worker: 0, segments: undefined },
      { worker: 1, segments: undefined },
    ])
    assert.throws(() => planWorkers(groups(1), 2, [0]), { code: 'INVALID_PLACEMENT' })
  })
})

describe('RestartPolicy', () => {
  it('doubles the delay per failure within the window and gives up at the 5th', () => {
    const policy = new RestartPolicy()
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((i) => policy.failed(i * 1000)),
      [500, 1000, 2000, 4000, 'give_up'],
    )
  })

  it('forgets failures older than the window', () => {
    const policy = new RestartPolicy()
    const { windowMs } = RESTART_DEFAULTS
    assert.equal(policy.failed(0), 500)
    assert.equal(policy.failed(1000), 1000)
    assert.equal(policy.failed(1000 + windowMs), 500, 'the first two are out of the window')
    assert.equal(policy.recentFailures, 1)
  })

  it('caps the delay', () => {
    const policy = new RestartPolicy({
      initialBackoffMs: 4000,
      maxBackoffMs: 5000,
      maxFailures: 10,
      windowMs: 60_000,
    })
    assert.deepEqual([policy.failed(0), policy.failed(1), policy.failed(2)], [4000, 5000, 5000])
  })
})
