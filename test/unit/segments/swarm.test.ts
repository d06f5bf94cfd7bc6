// The process swarm: how segments are spread over workers, when a failing worker is restarted
// (with what delay) or given up on, and what a worker's exit code tells the swarm — a failure
// no restart can fix ends the swarm at once; a cluster that cannot be reached is not the
// worker's fault (restarted, never counted). Stand-in workers are tiny Node programs.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createApp } from '../../../src/app/app.ts'
import {
  planWorkers,
  RESTART_DEFAULTS,
  RestartPolicy,
  runSwarm,
  WORKER_EXIT,
  workerExitCode,
} from '../../../src/app/swarm.ts'
import { MultilaneError } from '../../../src/errors.ts'
import { ClusterError } from '../../../src/kafka/cluster.ts'

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

describe('worker exit codes', () => {
  it('a routing mismatch (also as the cause of a refused assignment) is fatal; an unreachable cluster is not the worker’s fault', () => {
    const mismatch = new MultilaneError('ROUTING_MISMATCH', 'fingerprints differ')
    const refused = new MultilaneError('ASSIGNMENT_REFUSED', 'refused', { cause: mismatch })
    assert.equal(workerExitCode(mismatch), WORKER_EXIT.fatal)
    assert.equal(workerExitCode(refused), WORKER_EXIT.fatal)
    assert.equal(
      workerExitCode(new ClusterError('NO_BROKER_REACHABLE', 'none')),
      WORKER_EXIT.clusterUnreachable,
    )
    assert.equal(workerExitCode(new MultilaneError('DEAD_LETTER_TOPIC_MISSING', 'missing')), 1)
    assert.equal(workerExitCode(new Error('boom')), 1)
  })

  /** Runs a one-worker swarm whose worker exits with `codes[n]` on its n-th start. */
  async function swarmOf(codes: number[]): Promise<{ code: number; log: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'multilane-swarm-'))
    const counter = join(dir, 'starts')
    const program = `
      const fs = require('node:fs')
      const file = process.argv[1]
      const n = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 0
      fs.writeFileSync(file, String(n + 1))
      const codes = ${JSON.stringify(codes)}
      process.exit(codes[Math.min(n, codes.length - 1)])
    `
    const log: string[] = []
    try {
      const code = await runSwarm({
        workers: [{ worker: 0, segments: undefined }],
        command: { file: process.execPath, args: ['-e', program, counter] },
        restart: { initialBackoffMs: 10, maxBackoffMs: 40, maxFailures: 5, windowMs: 60_000 },
        log: (m) => log.push(m),
      })
      return { code, log }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it('a worker exiting with the fatal code is not restarted: the swarm says so once and exits 1', async () => {
    const { code, log } = await swarmOf([WORKER_EXIT.fatal])
    assert.equal(code, 1)
    assert.equal(log.filter((l) => l.includes('started')).length, 1, log.join('\n'))
    assert.equal(log.filter((l) => l.includes('no restart can fix')).length, 1, log.join('\n'))
    assert.ok(!log.some((l) => l.includes('restarting in')), log.join('\n'))
  })

  it('exits while the cluster is unreachable are restarted with backoff and never counted toward giving up', async () => {
    const unreachable = Array.from({ length: 7 }, () => WORKER_EXIT.clusterUnreachable)
    const { code, log } = await swarmOf([...unreachable, WORKER_EXIT.fatal])
    assert.equal(code, 1)
    // 7 unreachable exits (more than maxFailures 5) did not end the swarm: the 8th start ran.
    assert.equal(log.filter((l) => l.includes('started')).length, 8, log.join('\n'))
    assert.equal(log.filter((l) => l.includes('could not reach the cluster')).length, 7, log.join('\n'))
    assert.ok(!log.some((l) => l.includes('giving up')), log.join('\n'))
  })
})
