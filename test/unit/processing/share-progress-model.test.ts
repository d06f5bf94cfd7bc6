// A share group runtime's progress — the records in progress here, their locks kept by renewals,
// and the acknowledgement each outcome becomes — follows a simple reference model under any
// sequence of records handed out (some late in their lock), outcomes (succeeded, dead-lettered,
// rejected, released), records abandoned, locks reported lost, records delivered again to this
// member while in progress (adopted), the clock advancing (renewal sweeps), the member answering
// ok / lock_lost / failed / RENEW_UNSUPPORTED / a late renewal it applied, at once or later, the
// shutdown deadline passing (releaseHeld) and close. Whatever the sequence:
// - each record handed out gets exactly one final acknowledgement, of the type its outcome asks,
//   for its current delivery (the new one once adopted) — or none when it was still in progress
//   at close (the member then releases it);
// - renewals go only to deliveries in progress here whose lock is not lost, one at a time, when
//   due — and always before the lock's deadline; nothing is sent after close;
// - every lost lock is reported once per delivery (share.lock_lost), a release or reject applied
//   is reported (share.released, share.rejected), and the count in progress matches the model's.
//
// The seam: ShareProgress against an in-memory ShareAcknowledger (multilane's own interface for
// the share member); node:test's mocked Date and setInterval drive the renewal sweep.
// On failure fast-check prints the seed, the path and the commands' replayPath: replay the shrunk
// case with FC_SEED=<seed> FC_PATH=<path> FC_REPLAY_PATH=<replayPath>.
import assert from 'node:assert/strict'
import { after, before, describe, it, mock } from 'node:test'
import fc from 'fast-check'
import { ShareError } from '../../../src/engine/share/errors.ts'
import { renewalLeadMs } from '../../../src/engine/share/lock-timing.ts'
import type {
  AcknowledgeType,
  AckResult,
  RecordDelivery,
  ShareRecord,
} from '../../../src/engine/share/types.ts'
import { EventBus } from '../../../src/instrumentation/events.ts'
import type { PartitionProgress, RecordOutcome } from '../../../src/processing/progress.ts'
import { ShareProgress } from '../../../src/processing/share-progress.ts'

const START = 2_000_000_000
const LOCK_MS = 5000
const MAX_WAIT_MS = 500
const T = 't'

type FinalAnswer = 'ok' | 'lock_lost' | 'failed'
type RenewAnswer = 'ok' | 'lock_lost' | 'late_ok' | 'failed' | 'unsupported'
interface Policy {
  final: FinalAnswer
  renew: RenewAnswer
  /** Answers wait for an `answer` step (a request in flight meanwhile). */
  hold: boolean
}

/** A record in progress, as the model sees it. */
interface InProgress {
  deliveryCount: number
  deadline: number
  margin: number
  lost: boolean
  renewing: boolean
  /** When a renewal was first asked for since the deadline last moved. */
  askedAt: number | undefined
}

interface Model {
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

interface Real {
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

const key = (offset: number, deliveryCount: number) => `${offset}/${deliveryCount}`

const ACK_OF: Record<RecordOutcome, AcknowledgeType> = {
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

function newRun(): { model: Model; real: Real } {
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
    member: {
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
    },
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

function record(offset: number, deliveryCount: number, lockDeadline: number): ShareRecord {
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

function hold(deliveryCount: number, deadline: number, now: number): InProgress {
  return {
    deliveryCount,
    deadline,
    margin: marginOf(deadline, now),
    lost: false,
    renewing: false,
    askedAt: undefined,
  }
}

function reportLost(m: Model, h: InProgress, offset: number): void {
  h.lost = true
  h.deadline = Number.POSITIVE_INFINITY
  m.reported.add(key(offset, h.deliveryCount))
}

/** The model's view of what was sent and answered since the last look; then the invariants. */
function observe(m: Model, r: Real): void {
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

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

type Cmd = fc.AsyncCommand<Model, Real>

abstract class Step implements Cmd {
  check(_m: Readonly<Model>): boolean {
    return true
  }
  abstract step(m: Model, r: Real): void | Promise<void>
  async run(m: Model, r: Real): Promise<void> {
    await this.step(m, r)
    await flush()
    observe(m, r)
  }
  abstract toString(): string
}

/** The source hands records out (the runtime takes nothing once closed). */
class Hand extends Step {
  readonly n: number
  readonly lockLeftMs: number
  constructor(n: number, lockLeftMs: number) {
    super()
    this.n = n
    this.lockLeftMs = lockLeftMs
  }
  override check(m: Readonly<Model>) {
    return !m.closed
  }
  step(m: Model, r: Real) {
    const records = Array.from({ length: this.n }, (_, i) =>
      record(m.nextOffset + i, 1, m.now + this.lockLeftMs),
    )
    m.nextOffset += this.n
    r.progress.deliveries.handed(records)
    for (const x of records) {
      r.partition.track(x.offset)
      m.tracked.push(x.offset)
      m.inProgress.set(x.offset, hold(1, x.lockDeadline, m.now))
    }
  }
  toString() {
    return `hand(${this.n}, ${this.lockLeftMs} ms of lock left)`
  }
}

/** Picks one of the offsets handed out: mostly the latest (in progress), sometimes older ones. */
function pickOffset(m: Model, pick: number): number | undefined {
  if (m.tracked.length === 0) return undefined
  return m.tracked[m.tracked.length - 1 - (pick % m.tracked.length)]
}

class Finish extends Step {
  readonly pick: number
  readonly outcome: RecordOutcome | 'abandoned'
  constructor(pick: number, outcome: RecordOutcome | 'abandoned') {
    super()
    this.pick = pick
    this.outcome = outcome
  }
  step(m: Model, r: Real) {
    const offset = pickOffset(m, this.pick)
    if (offset === undefined) return
    const h = m.inProgress.get(offset)
    if (h) {
      m.inProgress.delete(offset)
      m.finals.push(
        `${key(offset, h.deliveryCount)} ${this.outcome === 'abandoned' ? 'release' : ACK_OF[this.outcome]}`,
      )
    }
    if (this.outcome === 'abandoned') r.partition.abandon(offset)
    else r.partition.finish(offset, this.outcome)
  }
  toString() {
    return `${this.outcome}(#${this.pick})`
  }
}

/** The member reports the locks of some records lost (a connection closed, a leader moved). */
class Lost extends Step {
  readonly picks: number[]
  constructor(picks: number[]) {
    super()
    this.picks = picks
  }
  step(m: Model, r: Real) {
    const offsets = this.picks.map((p) => pickOffset(m, p)).filter((o): o is number => o !== undefined)
    for (const offset of new Set(offsets)) {
      const h = m.closed ? undefined : m.inProgress.get(offset)
      if (h && !h.lost) reportLost(m, h, offset)
      else if (h) m.reported.add(key(offset, h.deliveryCount))
    }
    r.progress.lost(T, 0, offsets, 'the connection closed')
  }
  toString() {
    return `lost(${this.picks.map((p) => `#${p}`).join(', ')})`
  }
}

/** A record in progress comes back to this member (its lock expired): the member reports the
 * earlier delivery lost, then the source offers the new one, which progress adopts. */
class Redeliver extends Step {
  readonly pick: number
  readonly lockLeftMs: number
  constructor(pick: number, lockLeftMs: number) {
    super()
    this.pick = pick
    this.lockLeftMs = lockLeftMs
  }
  step(m: Model, r: Real) {
    const offset = pickOffset(m, this.pick)
    if (offset === undefined) return
    const h = m.closed ? undefined : m.inProgress.get(offset)
    const current = r.progress.deliveries.peek(`${T}\u00000`, offset)
    const deliveryCount = (h?.deliveryCount ?? current?.deliveryCount ?? 1) + 1
    if (h) reportLost(m, h, offset)
    r.progress.lost(T, 0, [offset], 'acquired again after the lock expired')
    const adopted = r.progress.adopt(record(offset, deliveryCount, m.now + this.lockLeftMs))
    assert.equal(
      adopted,
      h !== undefined,
      `a new delivery of ${offset} is adopted while it is in progress here`,
    )
    if (h) m.inProgress.set(offset, hold(deliveryCount, m.now + this.lockLeftMs, m.now))
  }
  toString() {
    return `redeliver(#${this.pick}, ${this.lockLeftMs} ms of lock left)`
  }
}

class Tick extends Step {
  readonly ms: number
  constructor(ms: number) {
    super()
    this.ms = ms
  }
  async step(m: Model, r: Real) {
    // In 100 ms steps, the member's answers settling in between (as they would).
    for (let t = 0; t < this.ms; t += 100) {
      m.now += 100
      mock.timers.tick(100)
      await flush()
      observe(m, r)
    }
  }
  toString() {
    return `tick(${this.ms})`
  }
}

class SetPolicy extends Step {
  readonly policy: Policy
  constructor(policy: Policy) {
    super()
    this.policy = policy
  }
  step(_m: Model, r: Real) {
    r.policy = { ...this.policy }
  }
  toString() {
    const p = this.policy
    return `answer(final ${p.final}, renew ${p.renew}${p.hold ? ', later' : ''})`
  }
}

class Answer extends Step {
  step(_m: Model, r: Real) {
    for (const answer of r.held.splice(0)) answer()
  }
  toString() {
    return 'answerHeld'
  }
}

/** The shutdown deadline passed: what still runs is released; then the runtime closes. */
class Shutdown extends Step {
  readonly releaseHeld: boolean
  constructor(releaseHeld: boolean) {
    super()
    this.releaseHeld = releaseHeld
  }
  override check(m: Readonly<Model>) {
    return !m.closed
  }
  step(m: Model, r: Real) {
    shutdown(m, r, this.releaseHeld)
  }
  toString() {
    return this.releaseHeld ? 'releaseHeld+close' : 'close'
  }
}

function shutdown(m: Model, r: Real, releaseHeld: boolean): void {
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

const outcomes = fc.constantFrom<RecordOutcome | 'abandoned'>(
  'succeeded',
  'succeeded',
  'dead_lettered',
  'rejected',
  'released',
  'abandoned',
)
const lockLeft = fc.constantFrom(LOCK_MS, LOCK_MS, 3000, 1200, 300)

const commands = [
  fc.tuple(fc.integer({ min: 1, max: 3 }), lockLeft).map(([n, ms]) => new Hand(n, ms)),
  fc.tuple(fc.nat(3), outcomes).map(([pick, outcome]) => new Finish(pick, outcome)),
  fc.tuple(fc.nat(12), outcomes).map(([pick, outcome]) => new Finish(pick, outcome)),
  fc.array(fc.nat(6), { minLength: 1, maxLength: 3 }).map((picks) => new Lost(picks)),
  fc.tuple(fc.nat(4), lockLeft).map(([pick, ms]) => new Redeliver(pick, ms)),
  fc.constantFrom(100, 300, 1000, 2600, 6000).map((ms) => new Tick(ms)),
  fc.constantFrom(100, 300, 1000, 2600, 6000).map((ms) => new Tick(ms)),
  fc
    .record({
      final: fc.constantFrom<FinalAnswer>('ok', 'ok', 'lock_lost', 'failed'),
      renew: fc.constantFrom<RenewAnswer>('ok', 'ok', 'lock_lost', 'late_ok', 'failed', 'unsupported'),
      hold: fc.boolean(),
    })
    .map((p) => new SetPolicy(p)),
  fc.constant(new Answer()),
  fc.boolean().map((b) => new Shutdown(b)),
]

function params(numRuns: number): fc.Parameters<[Iterable<Cmd>]> {
  const seed = process.env.FC_SEED
  return { numRuns, ...(seed ? { seed: Number(seed), path: process.env.FC_PATH } : {}) }
}

describe('share progress against its model', () => {
  before(() => mock.timers.enable({ apis: ['setInterval', 'Date'], now: START }))
  after(() => mock.timers.reset())

  it('any sequence of records handed out, outcomes, lost locks, redeliveries, renewal sweeps and answers, then shutdown', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.commands(commands, { maxCommands: 40, size: 'max', replayPath: process.env.FC_REPLAY_PATH }),
        async (cmds) => {
          const { model: m, real: r } = newRun()
          try {
            await fc.asyncModelRun(() => ({ model: m, real: r }), cmds)
            if (!m.closed) shutdown(m, r, true)
            for (const answer of r.held.splice(0)) answer()
            await flush()
            observe(m, r)
            // Each record handed out got exactly one final acknowledgement, for its latest
            // delivery — or was in progress at close (the member releases it).
            const finals = new Map<number, string[]>()
            for (const s of r.sent) {
              if (s.type === 'renew') continue
              const list = finals.get(s.delivery.offset) ?? []
              list.push(`${key(s.delivery.offset, s.delivery.deliveryCount)} ${s.type}`)
              finals.set(s.delivery.offset, list)
            }
            for (const offset of m.tracked) {
              const list = finals.get(offset) ?? []
              if (m.leftAtClose.has(offset)) assert.deepEqual(list, [], `${offset} acknowledged after close`)
              else
                assert.equal(
                  list.length,
                  1,
                  `final acknowledgements of ${offset}: ${list.join(', ') || 'none'}`,
                )
            }
          } finally {
            r.progress.close()
          }
        },
      ),
      params(150),
    )
  })
})
