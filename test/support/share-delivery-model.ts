// The reference model of a share member's delivery state of one partition, and the steps that
// drive the real one (SharePartition) next to it, checking each step; the requests and answers
// are in share-delivery-exchange.ts. Used by test/unit/share/share-delivery-model.test.ts.
import assert from 'node:assert/strict'
import { mock } from 'node:test'
import type { SessionHost } from '../../src/engine/share/session-host.ts'
import { type AckEntry, SharePartition } from '../../src/engine/share/share-partition.ts'
import { type ShareTakeHost, takeShareRecords } from '../../src/engine/share/share-take.ts'
import type { AcknowledgeType, AckResult, ShareRecord } from '../../src/engine/share/types.ts'
import { recordBatch } from '../unit/kafka/share-wire.ts'
import { BrokerSharePartition } from './share-broker-partition.ts'

export const LOCK_MS = 5000
export const LOCK_BUDGET = 8
export const START = 1_000_000_000
export const TOPIC_ID = '0b1e7c1a-5a1e-4c5e-9a11-000000000001'

/** The log: record batches, two of them transaction markers (acquired offsets without a record: GAPs). */
export const LOG: Array<{ base: number; count: number; control?: boolean }> = [
  { base: 0, count: 4 },
  { base: 4, count: 4 },
  { base: 8, count: 1, control: true },
  { base: 9, count: 4 },
  { base: 13, count: 3 },
  { base: 16, count: 1, control: true },
  { base: 17, count: 7 },
]
const LOG_END = 24
export const CONTROL = new Set(LOG.filter((b) => b.control).map((b) => b.base))
export const ENCODED = LOG.map((b) =>
  recordBatch(
    BigInt(b.base),
    Array.from({ length: b.count }, (_, i) => `v${b.base + i}`),
    b.control ? 0x20 : 0,
  ),
)

export type FinalType = 'accept' | 'release' | 'reject'

/** One delivery the member holds, as the model sees it. */
interface ModelHeld {
  deliveryCount: number
  deadline: number
  stage: 'buffered' | 'processing' | 'final'
  finalType?: FinalType
}

export interface DeliveryModel {
  now: number
  assigned: boolean
  closed: boolean
  held: Map<number, ModelHeld>
  /** Acquisition order of buffered deliveries (the take hands them out in this order). */
  buffer: Array<{ offset: number; deliveryCount: number }>
  /** Deliveries handed to the application. */
  handed: Array<{ offset: number; deliveryCount: number }>
  /** The application's final decision per delivery (its first accept, release or reject). */
  decided: Map<string, FinalType>
  /** Every delivery of a record acquired by the member. */
  acquired: Set<string>
  /** Deliveries whose final acknowledgement failed: the broker keeps their lock until it expires. */
  failed: Set<string>
  /** GAP offsets whose acknowledgement failed: the broker keeps their lock until it expires. */
  failedGaps: Set<number>
  /** Deliveries whose locks went with a lost connection while buffered (never handed out). */
  lostWithSession: Set<string>
}

/** What the member reported per delivery: results, lost locks. */
type Reports = Map<string, string[]>

export interface EngineReal {
  p: SharePartition
  broker: BrokerSharePartition
  host: SessionHost
  takeHost: ShareTakeHost & { lost: number[] }
  /** host.lockLost calls since the last step looked. */
  lockLost: number[][]
  reports: Reports
  /** Sends of each entry refused with a retriable error (the test's own count). */
  attempts: WeakMap<AckEntry, number>
  /** The application's acknowledgements: what the model expected, what came back. */
  appAcks: Array<{
    label: string
    offset: number
    deliveryCount: number
    type: AcknowledgeType
    expected?: AckResult['outcome']
    result?: AckResult
  }>
  renewFailures: number
  gapFailures: number
}

export function key(offset: number, deliveryCount: number): string {
  return `${offset}/${deliveryCount}`
}

export function report(r: EngineReal, offset: number, deliveryCount: number, what: string): void {
  const k = key(offset, deliveryCount)
  const list = r.reports.get(k) ?? []
  list.push(what)
  r.reports.set(k, list)
}

/** A fresh run: the model, the real partition and its broker, the clock at START. */
export function newRun(): { model: DeliveryModel; real: EngineReal } {
  mock.timers.setTime(START)
  const p = new SharePartition('t', 0, LOCK_BUDGET)
  p.topicId = TOPIC_ID
  p.leaderId = 1
  p.assigned = true
  const lockLost: number[][] = []
  const noop = () => {}
  const host: SessionHost = {
    groupId: 'g',
    memberId: 'm',
    fetch: { maxRecords: 6, maxWaitMs: 500, minBytes: 1, maxBytes: 1 << 20, acquireMode: 'batch_optimized' },
    cluster: {} as SessionHost['cluster'],
    partitionsLedBy: () => [p],
    partitionById: (topicId, partition) => (topicId === TOPIC_ID && partition === 0 ? p : undefined),
    renewEnabled: () => true,
    totalBuffered: () => p.buffered,
    wantsRecords: () => true,
    demand: () => 100,
    lockDuration: noop,
    nextRequestSeq: () => 0,
    recordsAdded: noop,
    leadersStale: noop,
    events: {
      emit: ((event: string, payload: { offsets?: number[] }) => {
        if (event === 'lock_lost') lockLost.push([...(payload.offsets ?? [])])
        return true
      }) as SessionHost['events']['emit'],
    },
    fatal: noop,
    requestDone: noop,
  }
  const takeLost: number[] = []
  const takeHost = {
    lost: takeLost,
    lockLost: (_p: SharePartition, offsets: number[]) => {
      takeLost.push(...offsets)
    },
    touched: noop,
  }
  return {
    model: {
      now: START,
      assigned: true,
      closed: false,
      held: new Map(),
      buffer: [],
      handed: [],
      decided: new Map(),
      acquired: new Set(),
      failed: new Set(),
      failedGaps: new Set(),
      lostWithSession: new Set(),
    },
    real: {
      p,
      broker: new BrokerSharePartition(LOG_END),
      host,
      takeHost,
      lockLost,
      reports: new Map(),
      attempts: new WeakMap(),
      appAcks: [],
      renewFailures: 0,
      gapFailures: 0,
    },
  }
}

export function tick(m: DeliveryModel, ms: number): void {
  m.now += ms
  mock.timers.tick(ms)
  assert.equal(Date.now(), m.now)
}

/** Lets acknowledgement promises settled synchronously deliver their results. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The member's counts agree with the model's. */
export function checkCounts(m: DeliveryModel, r: EngineReal): void {
  let buffered = 0
  let processing = 0
  for (const h of m.held.values()) {
    if (h.stage === 'buffered') buffered++
    if (h.stage === 'processing') processing++
  }
  assert.equal(r.p.held, m.held.size, 'records held: member vs model')
  assert.equal(r.p.buffered, buffered, 'records buffered: member vs model')
  assert.equal(r.p.processing, processing, 'records being processed: member vs model')
  assert.equal(r.p.room, Math.max(0, LOCK_BUDGET - m.held.size), 'lock budget room')
  for (const [offset, h] of m.held)
    assert.equal(r.p.lockDeadline(offset, h.deliveryCount), h.deadline, `lock deadline of ${offset}`)
}

export function releaseBufferedInModel(m: DeliveryModel): number {
  let n = 0
  for (const h of m.held.values()) {
    if (h.stage !== 'buffered') continue
    h.stage = 'final'
    h.finalType = 'release'
    n++
  }
  m.buffer = []
  return n
}

export function revoke(m: DeliveryModel, r: EngineReal): void {
  m.assigned = false
  r.p.assigned = false
  const n = r.p.releaseBuffered()
  assert.equal(n, releaseBufferedInModel(m), 'buffered records released on revocation')
}

export function reassign(m: DeliveryModel, r: EngineReal): void {
  m.assigned = true
  r.p.assigned = true
}

/** The session's connection closed: the broker releases every lock of the member. */
export function loseConnection(m: DeliveryModel, r: EngineReal): void {
  r.broker.releaseAll('us')
  const processing: number[] = []
  for (const [offset, h] of m.held) {
    if (h.stage === 'processing') processing.push(offset)
    if (h.stage === 'buffered') m.lostWithSession.add(key(offset, h.deliveryCount))
  }
  const held = new Map(m.held)
  const lost = r.p.loseAll('the connection closed')
  assert.deepEqual(
    [...lost.processing].sort((a, b) => a - b),
    processing.sort((a, b) => a - b),
  )
  for (const offset of lost.processing) report(r, offset, held.get(offset)!.deliveryCount, 'lock_lost')
  for (const res of lost.results) {
    assert.equal(res.outcome, 'lock_lost', `${res.type} of ${res.offset} queued when the connection closed`)
    report(r, res.offset, res.deliveryCount, `${res.type}:${res.outcome}`)
  }
  m.held.clear()
  m.buffer = []
}

export function take(m: DeliveryModel, r: EngineReal, max: number): void {
  // The model: buffered deliveries in acquisition order; an expired one is released, not handed.
  let bufferedCount = 0
  for (const h of m.held.values()) if (h.stage === 'buffered') bufferedCount++
  const n = Math.min(max, bufferedCount)
  const taken: Array<{ offset: number; deliveryCount: number }> = []
  const expired: number[] = []
  while (m.buffer.length > 0 && taken.length < n) {
    const d = m.buffer.shift()!
    const h = m.held.get(d.offset)
    if (!h || h.deliveryCount !== d.deliveryCount || h.stage !== 'buffered') continue
    if (h.deadline <= m.now) {
      h.stage = 'final'
      h.finalType = 'release'
      expired.push(d.offset)
      continue
    }
    h.stage = 'processing'
    taken.push(d)
  }
  r.takeHost.lost.length = 0
  const out = takeShareRecords([r.p], 0, max, undefined, m.now, r.takeHost)
  const records: ShareRecord[] = out.flatMap((x) => x.records)
  assert.deepEqual(
    records.map((x) => key(x.offset, x.deliveryCount)),
    taken.map((d) => key(d.offset, d.deliveryCount)),
    'records handed out',
  )
  assert.deepEqual(r.takeHost.lost, expired, 'records whose lock expired in the buffer')
  for (const offset of expired) report(r, offset, m.held.get(offset)!.deliveryCount, 'lock_lost')
  for (const x of records) {
    assert.equal(
      x.lockDeadline,
      m.held.get(x.offset)!.deadline,
      'a handed record carries its current deadline',
    )
    m.handed.push({ offset: x.offset, deliveryCount: x.deliveryCount })
  }
}

/** The application acknowledges a delivery it was handed (any of them, finished or not). */
export function appAcknowledge(
  m: DeliveryModel,
  r: EngineReal,
  d: { offset: number; deliveryCount: number },
  type: AcknowledgeType,
): void {
  const h = m.held.get(d.offset)
  const ack: EngineReal['appAcks'][number] = {
    label: `${type} ${key(d.offset, d.deliveryCount)}`,
    offset: d.offset,
    deliveryCount: d.deliveryCount,
    type,
  }
  if (!h || h.deliveryCount !== d.deliveryCount) ack.expected = 'lock_lost'
  else if (h.stage === 'final') ack.expected = 'failed'
  else if (type !== 'renew') {
    h.stage = 'final'
    h.finalType = type
    m.decided.set(key(d.offset, d.deliveryCount), type)
  }
  r.appAcks.push(ack)
  void r.p.acknowledge({ topic: 't', partition: 0, ...d }, type).then((result) => {
    assert.equal(ack.result, undefined, `${ack.label} settled twice`)
    ack.result = result
  })
}

/** The application's acknowledgements the model knew the outcome of at once got that outcome. */
export function checkAppAcks(r: EngineReal): void {
  for (const ack of r.appAcks) {
    if (ack.expected === undefined) continue
    assert.ok(ack.result, `${ack.label} is answered at once`)
    assert.equal(ack.result.outcome, ack.expected, ack.label)
    if (ack.expected === 'failed') assert.equal(ack.result.error?.code, 'ALREADY_ACKNOWLEDGED', ack.label)
  }
}

export function renewBuffered(m: DeliveryModel, r: EngineReal, marginMs: number): void {
  let due = 0
  for (const h of m.held.values()) {
    if (h.stage === 'buffered' && h.deadline - m.now <= Math.max(LOCK_MS / 2, marginMs)) due++
  }
  const n = r.p.renewBuffered(m.now, marginMs)
  assert.ok(n <= due, `renewed ${n} buffered records, ${due} were due`)
}
