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
// case with FC_SEED=<seed> FC_PATH=<path> FC_REPLAY_PATH=<replayPath>. FC_RUNS=<n> explores longer
// (the default keeps `npm test` within a few seconds).
import assert from 'node:assert/strict'
import { after, before, describe, it, mock } from 'node:test'
import fc from 'fast-check'
import type { RecordOutcome } from '../../../src/processing/progress.ts'
import {
  ACK_OF,
  type FinalAnswer,
  flush,
  hold,
  key,
  LOCK_MS,
  type Model,
  newRun,
  observe,
  type Policy,
  type Real,
  type RenewAnswer,
  record,
  reportLost,
  START,
  shutdown,
  T,
} from '../../support/share-progress-model.ts'

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
    // As the source offers it: in a fetched batch, with a record not in progress here.
    const again = record(offset, deliveryCount, m.now + this.lockLeftMs)
    const handedOn = r.progress.notAdopted(`${T}\u00000`, [again, record(m.nextOffset + 1000, 1, m.now)])
    const adopted = !handedOn.includes(again)
    assert.equal(handedOn.length, adopted ? 1 : 2, 'the record not in progress is handed on')
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
      params(Number(process.env.FC_RUNS ?? 150)),
    )
  })
})
