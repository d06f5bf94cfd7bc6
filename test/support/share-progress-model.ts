// The reference model of a share runtime's progress (records in progress, their locks, the
// acknowledgement each outcome becomes), an in-memory ShareAcknowledger standing for the share
// member, and the checks of what ShareProgress sent and reported against the model. Used by
// test/unit/processing/share-progress-model.test.ts.
import assert from 'node:assert/strict'
import { mock } from 'node:test'
import { ShareError } from '../../src/engine/share/errors.ts'
import { renewalLeadMs } from '../../src/engine/share/lock-timing.ts'
import type { AcknowledgeType, AckResult, RecordDelivery, ShareRecord } from '../../src/engine/share/types.ts'
import { EventBus } from '../../src/instrumentation/events.ts'
import type { PartitionProgress, RecordOutcome } from '../../src/processing/progress.ts'
import { ShareProgress } from '../../src/processing/share-group/progress.ts'
import { promised } from './share-acknowledger.ts'

export const START = 2_000_000_000
export const LOCK_MS = 5000
const MAX_WAIT_MS = 500
export const T = 't'

export type FinalAnswer = 'ok' | 'lock_lost' | 'failed'
export type RenewAnswer = 'ok' | 'lock_lost' | 'late_ok' | 'failed' | 'unsupported'
export interface Policy {
  final: FinalAnswer
  renew: RenewAnswer
  /** Answers wait for an `answer` step (a request in flight meanwhile). */
  hold: boolean
}

/** A record in progress, as the model sees it. */
export interface InProgress {
  deliveryCount: number
  deadline: number
  margin: number
  lost: boolean
  renewing: boolean
  /** When a renewal was first asked for since the deadline last moved. */
  askedAt: number | undefined
}

export interface Model {
  now: number
  closed: boolean
  nextOffset: number
  inProgress: Map<number, InProgress>
  /** Offsets handed out (each once: new deliveries of them are adopted). */
  tracked: number[]
  /** Final acknowledgements the model expects, in order: `offset/deliveryCount type`. */
  finals: string[]
  /** Offsets in progress when the runtime closed: the member releases them. */
  leftAtClose: Set<number>
  /** Deliveries reported lost. */
  reported: Set<string>
  released: number
  rejected: number
}

interface Sent {
  delivery: RecordDelivery
  type: AcknowledgeType
  at: number
}

interface Answered {
  delivery: RecordDelivery
  type: AcknowledgeType
  result: AckResult
}

export interface Real {
  progress: ShareProgress
  partition: PartitionProgress
  policy: Policy
  sent: Sent[]
  /** How far the model looked at `sent` and `answered`. */
  seenSent: number
  answered: Answered[]
  seenAnswered: number
  held: Array<() => void>
  lockLostEvents: string[]
  released: number
  rejected: number
}

export const key = (offset: number, deliveryCount: number) => `${offset}/${deliveryCount}`

export const ACK_OF: Record<RecordOutcome, AcknowledgeType> = {
  succeeded: 'accept',
  dead_lettered: 'reject',
  rejected: 'reject',
  released: 'release',
}

/** share-progress.ts's margin, restated: the earlier of half the time left and the renewal lead. */
function marginOf(deadline: number, now: number): number {
  return Math.max(Math.max(0, deadline - now) / 2, renewalLeadMs(MAX_WAIT_MS))
}

function answerOf(policy: Policy, delivery: RecordDelivery, type: AcknowledgeType): AckResult {
  const base = { ...delivery, type }
  if (type === 'renew') {
    switch (policy.renew) {
      case 'ok':
        return { ...base, outcome: 'ok', lockDeadline: Date.now() + LOCK_MS }
      case 'lock_lost':
        return { ...base, outcome: 'lock_lost', error: new ShareError('LOCK_LOST', 'lock lost') }
      case 'late_ok':
        return {
          ...base,
          outcome: 'lock_lost',
          error: new ShareError('LOCK_LOST', 'renew sent after the lock deadline'),
          lockDeadline: Date.now() + LOCK_MS,
        }
      case 'failed':
        return {
          ...base,
          outcome: 'failed',
          error: new ShareError('ACKNOWLEDGE_FAILED', 'REQUEST_TIMED_OUT'),
        }
      case 'unsupported':
        return { ...base, outcome: 'failed', error: new ShareError('RENEW_UNSUPPORTED', 'disabled') }
    }
  }
  if (policy.final === 'ok') return { ...base, outcome: 'ok' }
  if (policy.final === 'lock_lost')
    return { ...base, outcome: 'lock_lost', error: new ShareError('LOCK_LOST', 'lock lost') }
  return { ...base, outcome: 'failed', error: new ShareError('ACKNOWLEDGE_FAILED', 'UNKNOWN_SERVER_ERROR') }
}

export function newRun(): { model: Model; real: Real } {
  mock.timers.setTime(START)
  const events = new EventBus()
  const real = {
    policy: { final: 'ok', renew: 'ok', hold: false },
    sent: [],
    seenSent: 0,
    answered: [],
    seenAnswered: 0,
    held: [],
    lockLostEvents: [],
    released: 0,
    rejected: 0,
  } as unknown as Real
  events.on('share.lock_lost', (e) => real.lockLostEvents.push(key(e.offset, e.deliveryCount)))
  events.on('share.released', () => real.released++)
  events.on('share.rejected', () => real.rejected++)
  real.progress = new ShareProgress({
    groupId: 'g',
    events,
    maxWaitMs: MAX_WAIT_MS,
    member: promised({
      acknowledge: (d, type) => {
        const delivery = {
          topic: d.topic,
          partition: d.partition,
          offset: d.offset,
          deliveryCount: d.deliveryCount,
        }
        real.sent.push({ delivery, type, at: Date.now() })
        const policy = { ...real.policy }
        return new Promise<AckResult>((resolve) => {
          const answer = () => {
            const result = answerOf(policy, delivery, type)
            real.answered.push({ delivery, type, result })
            resolve(result)
          }
          if (policy.hold) real.held.push(answer)
          else answer()
        })
      },
      flush: async () => {},
    }),
  })
  real.partition = real.progress.open(
    { topic: T, partition: 0, intakeFreed() {} },
    { topic: T, partition: 0, position: 0, committed: null },
  )
  return {
    model: {
      now: START,
      closed: false,
      nextOffset: 0,
      inProgress: new Map(),
      tracked: [],
      finals: [],
      leftAtClose: new Set(),
      reported: new Set(),
      released: 0,
      rejected: 0,
    },
    real,
  }
}

export function record(offset: number, deliveryCount: number, lockDeadline: number): ShareRecord {
  return {
    topic: T,
    partition: 0,
    offset,
    timestamp: 0,
    key: null,
    value: null,
    headers: [],
    leaderEpoch: 0,
    deliveryCount,
    lockDeadline,
  }
}

export function hold(deliveryCount: number, deadline: number, now: number): InProgress {
  return {
    deliveryCount,
    deadline,
    margin: marginOf(deadline, now),
    lost: false,
    renewing: false,
    askedAt: undefined,
  }
}

export function reportLost(m: Model, h: InProgress, offset: number): void {
  h.lost = true
  h.deadline = Number.POSITIVE_INFINITY
  m.reported.add(key(offset, h.deliveryCount))
}

/** The model's view of what was sent and answered since the last look; then the invariants. */
export function observe(m: Model, r: Real): void {
  observeSent(m, r)
  observeAnswers(m, r)
  checkInvariants(m, r)
}

/** What was sent since the last look: the finals the model expects, renewals only when due. */
function observeSent(m: Model, r: Real): void {
  const finalsSent: string[] = []
  for (const s of r.sent.slice(r.seenSent)) {
    const k = key(s.delivery.offset, s.delivery.deliveryCount)
    assert.ok(!m.closed, `${s.type} of ${k} sent after close`)
    if (s.type !== 'renew') {
      finalsSent.push(`${k} ${s.type}`)
      continue
    }
    const h = m.inProgress.get(s.delivery.offset)
    assert.ok(h, `renewal of ${k}, which is not in progress here`)
    assert.equal(h.deliveryCount, s.delivery.deliveryCount, `renewal of ${k}, an earlier delivery`)
    assert.ok(!h.lost, `renewal of ${k}, whose lock is lost`)
    assert.ok(!h.renewing, `a second renewal of ${k} while one is out`)
    assert.ok(h.deadline - s.at <= h.margin, `renewal of ${k} before it was due`)
    h.renewing = true
    h.askedAt ??= s.at
  }
  r.seenSent = r.sent.length
  assert.deepEqual(finalsSent, m.finals, 'final acknowledgements sent')
  m.finals = []
}

/** What the member answered since the last look (their effects have run: call after a flush). */
function observeAnswers(m: Model, r: Real): void {
  for (const a of r.answered.slice(r.seenAnswered)) {
    const { offset, deliveryCount } = a.delivery
    const k = key(offset, deliveryCount)
    if (a.type !== 'renew') {
      // The record left progress when it ended; its held entry settles the lost report.
      if (a.result.outcome === 'lock_lost') m.reported.add(k)
      else if (a.result.outcome === 'ok' && a.type === 'release') m.released++
      else if (a.result.outcome === 'ok' && a.type === 'reject') m.rejected++
      continue
    }
    // A lost lock is reported even when the answer comes after the record ended (or was adopted,
    // or the runtime closed): it was lost while the record was held here.
    if (a.result.outcome === 'lock_lost') m.reported.add(k)
    const h = m.inProgress.get(offset)
    // Answered for a delivery no longer in progress (ended, or adopted): nothing to keep.
    if (!h || h.deliveryCount !== deliveryCount || !h.renewing) continue
    h.renewing = false
    const res = a.result
    if (res.outcome === 'ok' && res.lockDeadline !== undefined) {
      h.deadline = res.lockDeadline
      h.margin = marginOf(res.lockDeadline, m.now)
      h.askedAt = undefined
    } else if (res.outcome === 'lock_lost') {
      reportLost(m, h, offset)
      if (res.lockDeadline !== undefined) {
        h.lost = false
        h.deadline = res.lockDeadline
        h.margin = marginOf(res.lockDeadline, m.now)
        h.askedAt = undefined
      }
    } else if (res.outcome === 'failed' && res.error?.code === 'RENEW_UNSUPPORTED') {
      h.deadline = Number.POSITIVE_INFINITY
    }
  }
  r.seenAnswered = r.answered.length
}

function checkInvariants(m: Model, r: Real): void {
  // Every lock is renewed in time: a deadline never passes before a renewal was asked for.
  for (const [offset, h] of m.inProgress) {
    if (h.lost || !Number.isFinite(h.deadline) || h.deadline > m.now) continue
    assert.ok(
      h.askedAt !== undefined && h.askedAt < h.deadline,
      `the lock of ${key(offset, h.deliveryCount)} reached its deadline without a renewal asked for`,
    )
  }
  assert.equal(r.progress.inProgress(), m.closed ? 0 : m.inProgress.size, 'records in progress')
  assert.deepEqual([...r.lockLostEvents].sort(), [...m.reported].sort(), 'share.lock_lost, once per delivery')
  assert.equal(r.released, m.released, 'share.released events')
  assert.equal(r.rejected, m.rejected, 'share.rejected events')
}

export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export function shutdown(m: Model, r: Real, releaseHeld: boolean): void {
  if (releaseHeld) {
    for (const [offset, h] of m.inProgress) m.finals.push(`${key(offset, h.deliveryCount)} release`)
    r.progress.releaseHeld()
  } else for (const offset of m.inProgress.keys()) m.leftAtClose.add(offset)
  m.inProgress.clear()
  r.progress.close()
  // Sent before close (releaseHeld's releases): the model looks at them now, then it is closed.
  observeSent(m, r)
  m.closed = true
}
