// The heartbeat loop under both group memberships: it beats at the interval the last beat asked
// for (sooner when woken), backs off 100 ms doubling to 5 s after failures, looks the coordinator
// up again when it moved (not when it is only busy), rejoins at once or after a capped pause, and
// stops at once, whatever it was waiting for. Mock timers and clock, no broker.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { ProtocolError } from '@platformatic/kafka'
import { HeartbeatLoop, type HeartbeatOutcome } from '../../../src/engine/heartbeat-loop.ts'

/** Lets the loop's promise chain settle (microtasks only: the mocked timers do not move). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

/** Moves the mocked clock `ms` forward one millisecond at a time, settling after each. */
async function advance(ms: number): Promise<void> {
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1)
    await settle()
  }
}

type Answer = number | Error | (() => never)

/** A scripted protocol: each beat takes the next answer (the last one repeats). */
function scripted(answers: Answer[], options: { rejoinPauseMaxMs?: number; fatal?: string } = {}) {
  const beats: Array<{ at: number; coordinator: number }> = []
  const lookups: number[] = []
  const failures: Array<string | undefined> = []
  let stopped = 0
  let coordinators = [1, 2, 3, 4, 5, 6, 7, 8, 9]
  const loop = new HeartbeatLoop(
    {
      beat: async (coordinator) => {
        beats.push({ at: Date.now(), coordinator })
        const answer = answers.length > 1 ? answers.shift()! : answers[0]!
        if (typeof answer === 'number') return answer
        if (answer instanceof Error) throw answer
        return answer()
      },
      failed: (_error, name): HeartbeatOutcome => {
        failures.push(name)
        if (name !== undefined && name === options.fatal)
          return { action: 'fatal', error: new Error(`fatal: ${name}`) }
        if (name === 'UNKNOWN_MEMBER_ID') return { action: 'rejoin' }
        return { action: 'retry' }
      },
      stopped: () => stopped++,
    },
    {
      findCoordinator: async () => {
        lookups.push(Date.now())
        const [nodeId, ...rest] = coordinators
        coordinators = rest
        return { nodeId: nodeId! }
      },
      rejoinPauseMaxMs: options.rejoinPauseMaxMs ?? 0,
    },
  )
  return {
    loop,
    beats,
    lookups,
    failures,
    stopped: () => stopped,
    gaps: () => beats.slice(1).map((b, i) => b.at - beats[i]!.at),
  }
}

const closed = () => new Error('closed before joining')

describe('heartbeat loop', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }))
  afterEach(() => mock.timers.reset())

  it('beats at once, then at the interval each beat asked for; start resolves after the first beat', async () => {
    const s = scripted([1000, 1000, 300, 300])
    let joined = false
    void s.loop.start().then(() => {
      joined = true
    })
    await settle()
    assert.deepEqual(s.beats, [{ at: 0, coordinator: 1 }])
    assert.ok(joined)
    await advance(999)
    assert.equal(s.beats.length, 1, 'not before the interval')
    await advance(1)
    assert.equal(s.beats.length, 2)
    await advance(1000 + 300 + 300)
    assert.deepEqual(s.gaps(), [1000, 1000, 300, 300])
    assert.deepEqual(s.lookups, [0], 'the coordinator is looked up once while it answers')
    await s.loop.stop(closed())
  })

  it('wake beats before the interval ends, and nextBeat resolves after that beat', async () => {
    const s = scripted([5000])
    await s.loop.start()
    await advance(100)
    let next = false
    void s.loop.nextBeat(10_000).then(() => {
      next = true
    })
    await settle()
    assert.equal(s.beats.length, 2)
    assert.equal(s.beats[1]!.at, 100)
    assert.ok(next)
    s.loop.wake()
    await settle()
    assert.equal(s.beats.length, 3)
    await s.loop.stop(closed())
  })

  it('failures back off 100 ms doubling to 5 s; a successful beat resets the backoff', async () => {
    const busy = new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS')
    const s = scripted([busy, busy, busy, busy, busy, busy, busy, busy, 1000, busy, 1000])
    void s.loop.start()
    await settle()
    await advance(100 + 200 + 400 + 800 + 1600 + 3200 + 5000 + 5000 + 1000 + 100)
    assert.deepEqual(s.gaps(), [100, 200, 400, 800, 1600, 3200, 5000, 5000, 1000, 100])
    assert.equal(s.failures.length, 9)
    await s.loop.stop(closed())
  })

  it('a coordinator that moved (or a failure without a Kafka error) is looked up again; a busy one is kept', async () => {
    const s = scripted([
      1000,
      new ProtocolError('NOT_COORDINATOR'),
      1000,
      new ProtocolError('COORDINATOR_LOAD_IN_PROGRESS'),
      1000,
      new Error('connection reset'),
      1000,
    ])
    await s.loop.start()
    await advance(1000 + 100 + 1000 + 100 + 1000 + 100)
    assert.deepEqual(
      s.beats.map((b) => b.coordinator),
      [1, 1, 2, 2, 2, 2, 3],
    )
    assert.deepEqual(s.lookups, [0, 1100, 3300])
    assert.equal(s.loop.coordinatorNodeId, 3)
    assert.deepEqual(s.failures, ['NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS', undefined])
    await s.loop.stop(closed())
  })

  it('rejoin: beats again at once (rejoinPauseMaxMs 0) and keeps the coordinator', async () => {
    const fenced = new ProtocolError('UNKNOWN_MEMBER_ID')
    const s = scripted([1000, fenced, fenced, 1000])
    await s.loop.start()
    await advance(1000)
    assert.deepEqual(
      s.beats.map((b) => b.at),
      [0, 1000, 1000, 1000],
    )
    assert.deepEqual(s.lookups, [0])
    await s.loop.stop(closed())
  })

  it('rejoin with a pause: min(backoff, rejoinPauseMaxMs), the backoff doubling', async () => {
    const fenced = new ProtocolError('UNKNOWN_MEMBER_ID')
    const s = scripted([1000, fenced, fenced, fenced, 1000], { rejoinPauseMaxMs: 200 })
    await s.loop.start()
    await advance(1000 + 100 + 200 + 200)
    assert.deepEqual(s.gaps(), [1000, 100, 200, 200])
    await s.loop.stop(closed())
  })

  it('fatal: the loop stops, start rejects with the error, stopped is called once', async () => {
    const s = scripted([new ProtocolError('GROUP_AUTHORIZATION_FAILED')], {
      fatal: 'GROUP_AUTHORIZATION_FAILED',
    })
    await assert.rejects(s.loop.start(), /fatal: GROUP_AUTHORIZATION_FAILED/)
    await advance(10_000)
    assert.equal(s.beats.length, 1)
    assert.ok(s.loop.stopped)
    assert.equal(s.stopped(), 1)
    await s.loop.stop(closed())
    assert.equal(s.stopped(), 1)
  })

  it('stop ends an interval wait at once, resolves pending nextBeat waiters, and beats no more', async () => {
    const s = scripted([60_000])
    await s.loop.start()
    s.loop.wake()
    let next = false
    // A waiter registered while a beat is due resolves at the stop at the latest.
    void s.loop.nextBeat(100_000).then(() => {
      next = true
    })
    await s.loop.stop(closed())
    assert.ok(next)
    await s.loop.nextBeat(100_000)
    await advance(1000)
    assert.ok(s.beats.length <= 3)
    assert.equal(s.stopped(), 1)
  })

  it('stop during a backoff ends it at once; start rejects with the closing error when never joined', async () => {
    const s = scripted([new Error('connection refused')])
    const started = s.loop.start()
    await settle()
    await advance(150)
    assert.equal(s.beats.length, 2, 'retried after 100 ms, now backing off 200 ms')
    let done = false
    const stopping = s.loop.stop(closed()).then(() => {
      done = true
    })
    await settle()
    assert.ok(done, 'no timer had to fire')
    await stopping
    await assert.rejects(started, /closed before joining/)
    await advance(5000)
    assert.equal(s.beats.length, 2)
  })
})
