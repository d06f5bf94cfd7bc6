// The share member's leader refresh backs off as the group consumer's fetcher does (one
// LeaderTracker): while metadata cannot be read, or a partition has no leader, refreshes come
// 100 ms doubling to 2 s apart, not at a fixed interval. The scripted fake cluster, real
// SharePartitions, mock timers; no broker.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { type LeaderSession, ShareLeaders } from '../../../src/engine/share/share-leaders.ts'
import { SharePartition } from '../../../src/engine/share/share-partition.ts'
import { FakeCluster } from '../../support/fake-cluster.ts'

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

async function advance(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1)
    await settle()
  }
}

/** Brokers 1-3; topic t's one partition led by `leader` (-1: none). */
function clusterWithLeader(leader: number): FakeCluster {
  return new FakeCluster({ brokers: [1, 2, 3] }).topic('t', [leader])
}

/** A cluster none of whose metadata requests is answered. */
function unreachableCluster(): FakeCluster {
  return new FakeCluster().otherwise('Metadata', new Error('no broker answers'))
}

function leaders(fake: FakeCluster) {
  const warnings: Error[] = []
  const woken: number[] = []
  const partition = new SharePartition('t', 0, 100)
  partition.assigned = true
  const session = (nodeId: number): LeaderSession => ({ wake: () => woken.push(nodeId) })
  const tracked = new ShareLeaders({
    cluster: fake.cluster,
    partitions: () => [partition][Symbol.iterator](),
    byId: new Map(),
    sessionOf: (nodeId) => (nodeId >= 0 ? session(nodeId) : undefined),
    sessionFor: session,
    warning: (error) => warnings.push(error),
  })
  /** When metadata was asked for (mock clock). */
  const at = () => fake.requestsOf('Metadata').map((r) => r.at)
  return { tracked, at, warnings, woken, partition }
}

const gapsOf = (at: number[]) => at.slice(1).map((t, i) => t - at[i]!)

describe('share leader refresh', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }))
  afterEach(() => mock.timers.reset())

  it('a failing metadata refresh is retried 100 ms doubling to 2 s apart', async () => {
    const { tracked, at, warnings } = leaders(unreachableCluster())
    await tracked.refresh()
    await advance(7_100)
    tracked.close()
    assert.deepEqual(gapsOf(at()), [100, 200, 400, 800, 1600, 2000, 2000])
    assert.equal(warnings.length, at().length, 'each failure is a warning')
  })

  it('a partition without a leader is asked for again with the same backoff, until it has one', async () => {
    const fake = clusterWithLeader(-1)
    const { tracked, at, woken, partition } = leaders(fake)
    await tracked.refresh()
    await advance(700)
    assert.deepEqual(at(), [0, 100, 300, 700])
    fake.moveLeader('t', 0, 3)
    await advance(800)
    assert.equal(partition.leaderId, 3)
    assert.ok(woken.includes(3), "the new leader's session is started")
    await advance(5000)
    assert.equal(at().length, 5, 'no refresh once the leader is known')
    tracked.close()
  })

  it('sessions reporting stale leaders within the backoff do not refresh again at once', async () => {
    const { tracked, at } = leaders(unreachableCluster())
    await tracked.refresh()
    for (let i = 0; i < 20; i++) tracked.stale()
    await settle()
    assert.deepEqual(at(), [0])
    await advance(100)
    assert.deepEqual(at(), [0, 100])
    tracked.close()
  })
})
