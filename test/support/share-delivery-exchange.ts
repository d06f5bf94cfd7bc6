// One request of a share session (a ShareFetch carrying acknowledgements, or a ShareAcknowledge)
// driven through the real request builders and answer appliers, answered by the in-memory broker
// partition, and checked against the delivery model (share-delivery-model.ts); and the shutdown
// with its end-of-run checks. Used by test/unit/share/share-delivery-model.test.ts.
import assert from 'node:assert/strict'
import {
  acknowledgeRequest,
  applyAcknowledgeResponse,
  applyFetchResponse,
  fetchRequest,
  takeUnits,
} from '../../src/engine/share/session-requests.ts'
import type { AckEntry } from '../../src/engine/share/share-partition.ts'
import type { AckResult } from '../../src/engine/share/types.ts'
import type { ShareAcknowledgeResponse } from '../../src/kafka/apis/share-acknowledge-v1.ts'
import type { AcknowledgementBatch } from '../../src/kafka/apis/share-common.ts'
import type { ShareFetchResponse } from '../../src/kafka/apis/share-fetch-v1.ts'
import { decodeBatches } from './record-batches.ts'
import { expandBatches, type WireType } from './share-broker-partition.ts'
import {
  CONTROL,
  checkAppAcks,
  checkCounts,
  type DeliveryModel,
  ENCODED,
  type EngineReal,
  flushMicrotasks,
  key,
  LOCK_BUDGET,
  LOCK_MS,
  LOG,
  releaseBufferedInModel,
  report,
  revoke,
  TOPIC_ID,
  tick,
} from './share-delivery-model.ts'

const INVALID_RECORD_STATE = 121
/** A partition acknowledgement error the member retries (5 attempts). */
const REQUEST_TIMED_OUT = 7
const MAX_ACK_ATTEMPTS = 5

/** Record batches of the log overlapping `offsets`, as the protocol layer decodes them. */
function batchesFor(offsets: readonly number[]) {
  const wanted = LOG.map((b, i) => ({ b, i })).filter(({ b }) =>
    offsets.some((o) => o >= b.base && o < b.base + b.count),
  )
  if (wanted.length === 0) return []
  return decodeBatches(Buffer.concat(wanted.map(({ i }) => ENCODED[i]!)))
}

/** Consecutive offsets with one delivery count make one acquired range. */
function rangesOf(acquired: ReadonlyArray<{ offset: number; deliveryCount: number }>) {
  const ranges: Array<{ firstOffset: bigint; lastOffset: bigint; deliveryCount: number }> = []
  for (const a of acquired) {
    const last = ranges.at(-1)
    if (last && Number(last.lastOffset) + 1 === a.offset && last.deliveryCount === a.deliveryCount)
      last.lastOffset = BigInt(a.offset)
    else
      ranges.push({
        firstOffset: BigInt(a.offset),
        lastOffset: BigInt(a.offset),
        deliveryCount: a.deliveryCount,
      })
  }
  return ranges
}

/** What the model expects of one acknowledgement sent. */
interface Expected {
  /** Undefined: no result yet (the unit is split, or retried). */
  outcome: AckResult['outcome'] | undefined
  /** Sent at or after the delivery's lock deadline (as the member knows it). */
  late: boolean
  /** The broker applied it. */
  applied: boolean
}

export interface ExchangeOptions {
  /** Fetch when the session would (assigned, room, no RENEW queued), else acknowledge only. */
  prefer: 'fetch' | 'acknowledge'
  max: number
  /** How long the broker waits before it acquires (the fetch's wait): past the member's deadline base. */
  delayMs: number
  answer: 'ok' | 'retriable'
  /** The partition is revoked while the fetch is out. */
  revokeMeanwhile: boolean
}

/**
 * One request of the session, as ShareSession#step decides it: a ShareFetch carrying the queued
 * acknowledgements, or a ShareAcknowledge (a RENEW queued, nothing to fetch). Checks what goes
 * on the wire, answers as the broker, applies the answer, and checks the results against what
 * the model expects of each acknowledgement.
 */
export function exchange(m: DeliveryModel, r: EngineReal, o: ExchangeOptions): void {
  const room = LOCK_BUDGET - m.held.size
  const fetch = o.prefer === 'fetch' && m.assigned && room > 0 && !r.p.hasRenew()
  if (!fetch && !r.p.hasAcks()) return
  r.host.fetch.maxRecords = o.max
  const sentAt = m.now
  const units = takeUnits([r.p])
  const unit = units[0]?.[1] ?? []
  let batches: AcknowledgementBatch[] = []
  let maxRecords = 0
  if (fetch) {
    const { request } = fetchRequest(r.host, 1, [r.p], new Map(), units)
    assert.equal(request.isRenewAck, false)
    batches = request.topics[0]?.partitions[0]?.acknowledgementBatches ?? []
    maxRecords = request.maxRecords
    assert.equal(
      maxRecords,
      Math.min(o.max, room),
      'a fetch asks for no more than the lock budget has room for',
    )
  } else if (unit.length > 0) {
    const request = acknowledgeRequest(r.host, 1, units)
    batches = request.topics[0]?.partitions[0]?.acknowledgementBatches ?? []
    assert.equal(
      request.isRenewAck,
      unit.some((e) => e.type === 'renew'),
    )
  }
  // On the wire: exactly the unit's offsets and types.
  const wire = expandBatches(batches)
  assert.deepEqual(
    wire.map((w) => `${w.offset}:${w.type}`).sort(),
    unit.map((e) => `${e.offset}:${e.type}`).sort(),
    'the request carries exactly the unit',
  )
  // Each acknowledgement is of the delivery the member holds now, of the type decided for it.
  const expected = new Map<AckEntry, Expected>()
  for (const e of unit) {
    if (e.type === 'gap') {
      assert.ok(CONTROL.has(e.offset), `GAP for ${e.offset}, which holds a record`)
      continue
    }
    const h = m.held.get(e.offset)
    assert.ok(h, `${e.type} of ${e.offset} sent, which the member does not hold`)
    assert.equal(e.deliveryCount, h.deliveryCount, `${e.type} of ${e.offset} sent for an earlier delivery`)
    if (e.type !== 'renew') {
      assert.equal(h.stage, 'final', `${e.type} of ${e.offset} sent while it is ${h.stage}`)
      assert.equal(e.type, h.finalType, `${e.offset} acknowledged ${e.type}, decided ${h.finalType}`)
    }
    expected.set(e, { outcome: undefined, late: h.deadline <= sentAt, applied: false })
  }
  if (fetch) assert.ok(!unit.some((e) => e.type === 'renew'), 'a RENEW rides on a ShareFetch')
  // The broker applies the acknowledgements (all or none), then acquires.
  const appliedFrom = r.broker.applied.length
  const verdict =
    unit.length === 0
      ? 'ok'
      : o.answer === 'retriable'
        ? 'retriable'
        : r.broker.acknowledge(
            'us',
            wire.map((w) => ({ offset: w.offset, type: w.type as WireType })),
            sentAt,
            LOCK_MS,
          )
  checkApplied(m, r, appliedFrom)
  for (const [e, x] of expected) {
    x.applied = verdict === 'ok'
    if (verdict === 'ok') x.outcome = x.late ? 'lock_lost' : 'ok'
    else if (verdict === 'invalid_record_state') x.outcome = unit.length > 1 ? undefined : 'lock_lost'
    else {
      const n = (r.attempts.get(e) ?? 0) + 1
      r.attempts.set(e, n)
      x.outcome = n >= MAX_ACK_ATTEMPTS ? 'failed' : undefined
    }
  }
  if (verdict === 'retriable') {
    for (const e of unit) {
      if (e.type !== 'gap') continue
      const n = (r.attempts.get(e) ?? 0) + 1
      r.attempts.set(e, n)
      // A GAP refused five times: nothing to report (no record), the broker's lock expires.
      if (n >= MAX_ACK_ATTEMPTS) {
        m.failedGaps.add(e.offset)
        r.gapFailures++
      }
    }
  }
  const ackErrorCode =
    verdict === 'ok' ? 0 : verdict === 'invalid_record_state' ? INVALID_RECORD_STATE : REQUEST_TIMED_OUT
  let results: AckResult[]
  if (fetch) {
    if (o.delayMs > 0) tick(m, o.delayMs)
    const acquired = r.broker.acquire('us', maxRecords, m.now, LOCK_MS)
    if (o.revokeMeanwhile) revoke(m, r)
    const response: ShareFetchResponse = {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      acquisitionLockTimeoutMs: LOCK_MS,
      responses: [
        {
          topicId: TOPIC_ID,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              errorMessage: null,
              acknowledgeErrorCode: ackErrorCode,
              acknowledgeErrorMessage: null,
              currentLeader: { leaderId: 1, leaderEpoch: 0 },
              records: batchesFor(acquired.map((a) => a.offset)),
              acquiredRecords: rangesOf(acquired),
            },
          ],
        },
      ],
      nodeEndpoints: [],
    }
    r.lockLost.length = 0
    const outcome = applyFetchResponse(r.host, response, units, sentAt)
    results = outcome.ackResults
    settleInModel(m, r, expected, results, sentAt)
    addAcquiredInModel(m, r, acquired, sentAt)
  } else {
    const response: ShareAcknowledgeResponse = {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      acquisitionLockTimeoutMs: LOCK_MS,
      responses: [
        {
          topicId: TOPIC_ID,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: ackErrorCode,
              errorMessage: null,
              currentLeader: { leaderId: 1, leaderEpoch: 0 },
            },
          ],
        },
      ],
      nodeEndpoints: [],
    }
    results = applyAcknowledgeResponse(r.host, response, units, sentAt, false)
    settleInModel(m, r, expected, results, sentAt)
  }
}

/** Acknowledgements the broker applied for the member: accept and reject only as the application decided, each for the delivery it was sent for. */
function checkApplied(m: DeliveryModel, r: EngineReal, from: number): void {
  for (const a of r.broker.applied.slice(from)) {
    if (a.owner !== 'us' || a.type === 'gap') continue
    const h = m.held.get(a.offset)
    assert.equal(
      h?.deliveryCount,
      a.deliveryCount,
      `the broker applied ${a.type} to delivery ${a.deliveryCount} of ${a.offset}, which the member does not hold`,
    )
    if (a.type === 'accept' || a.type === 'reject') {
      assert.equal(
        m.decided.get(key(a.offset, a.deliveryCount)),
        a.type,
        `the broker archived ${key(a.offset, a.deliveryCount)} (${a.type}), which the application did not ${a.type}`,
      )
    }
  }
}

function settleInModel(
  m: DeliveryModel,
  r: EngineReal,
  expected: Map<AckEntry, Expected>,
  results: AckResult[],
  sentAt: number,
): void {
  const want: string[] = []
  for (const [e, x] of expected)
    if (x.outcome) want.push(`${e.type} ${key(e.offset, e.deliveryCount)}: ${x.outcome}`)
  assert.deepEqual(
    results.map((x) => `${x.type} ${key(x.offset, x.deliveryCount)}: ${x.outcome}`).sort(),
    want.sort(),
    'acknowledgement results',
  )
  for (const [e, x] of expected) {
    if (!x.outcome) continue
    const h = m.held.get(e.offset)!
    const k = key(e.offset, e.deliveryCount)
    report(r, e.offset, e.deliveryCount, `${e.type}:${x.outcome}`)
    if (e.type === 'renew') {
      const res = results.find((y) => y.offset === e.offset)!
      if (x.applied) {
        // Applied (late or not): the lock runs from the request's send time.
        h.deadline = sentAt + LOCK_MS
        assert.equal(res.lockDeadline, h.deadline, `renewed deadline of ${k}`)
      } else if (x.outcome === 'lock_lost') m.held.delete(e.offset)
      else r.renewFailures++
      continue
    }
    if (x.outcome === 'failed') m.failed.add(k)
    m.held.delete(e.offset)
  }
}

function addAcquiredInModel(
  m: DeliveryModel,
  r: EngineReal,
  acquired: ReadonlyArray<{ offset: number; deliveryCount: number }>,
  sentAt: number,
): void {
  const replaced: number[] = []
  for (const a of acquired) {
    if (CONTROL.has(a.offset)) continue
    const previous = m.held.get(a.offset)
    if (previous) {
      replaced.push(a.offset)
      report(r, a.offset, previous.deliveryCount, 'lock_lost')
    }
    m.held.set(a.offset, { deliveryCount: a.deliveryCount, deadline: sentAt + LOCK_MS, stage: 'buffered' })
    m.buffer.push(a)
    m.acquired.add(key(a.offset, a.deliveryCount))
  }
  assert.deepEqual(
    r.lockLost.flat(),
    replaced,
    'earlier deliveries replaced by a redelivery are reported lost',
  )
  if (!m.assigned) releaseBufferedInModel(m)
}

/**
 * The member closes: it releases everything it holds and sends every queued acknowledgement,
 * then its session ends. Checks that nothing is left held, here or at the broker, and that every
 * acquired delivery ended one of the allowed ways.
 */
export async function shutdownAndCheck(m: DeliveryModel, r: EngineReal): Promise<void> {
  m.assigned = false
  r.p.assigned = false
  let open = 0
  for (const h of m.held.values()) {
    if (h.stage === 'final') continue
    h.stage = 'final'
    h.finalType = 'release'
    open++
  }
  m.buffer = []
  assert.equal(r.p.releaseAll(), open, 'records released at shutdown')
  for (let i = 0; r.p.hasAcks(); i++) {
    assert.ok(i < 200, 'the acknowledgements queued at shutdown are sent in a bounded number of requests')
    exchange(m, r, { prefer: 'acknowledge', max: 1, delayMs: 0, answer: 'ok', revokeMeanwhile: false })
  }
  m.closed = true
  await flushMicrotasks()
  checkCounts(m, r)
  assert.equal(r.p.held, 0, 'the member holds nothing after shutdown')
  assert.ok(r.p.isIdle())
  // Before the session's close releases what is left: the broker holds nothing for the member
  // but the locks of acknowledgements that failed (they expire).
  for (const b of r.broker.heldBy('us', m.now)) {
    assert.ok(
      m.failed.has(key(b.offset, b.deliveryCount)) || m.failedGaps.has(b.offset),
      `the broker still holds ${key(b.offset, b.deliveryCount)} for the member, which forgot it`,
    )
  }
  r.broker.releaseAll('us')
  checkAppAcks(r)
  for (const ack of r.appAcks) {
    assert.ok(ack.result, `${ack.label} was never answered`)
    if (ack.type !== 'renew') assert.notEqual(ack.result.outcome, 'superseded', `${ack.label} dropped`)
  }
  // No delivery settled twice; every acquired delivery ended: acknowledged, released, or lost.
  const handed = new Set(m.handed.map((d) => key(d.offset, d.deliveryCount)))
  for (const k of m.acquired) {
    // A renewal's lock_lost is an end (reported lost); its ok or failed is not.
    const ends = (r.reports.get(k) ?? []).filter((x) => !x.startsWith('renew:') || x === 'renew:lock_lost')
    const applied = ends.filter((x) => x.endsWith(':ok'))
    assert.ok(applied.length <= 1, `${k} settled more than once: ${ends.join(', ')}`)
    if (ends.length === 0)
      assert.ok(
        m.lostWithSession.has(k) && !handed.has(k),
        `${k} (${handed.has(k) ? 'handed out' : 'buffered'}) ended silently`,
      )
  }
  // Every record acquired left the member's lock count exactly once.
  const c = r.p.counters
  assert.equal(
    c.acquired,
    c.accepted + c.released + c.rejected + c.lockLost + (c.failed - r.renewFailures - r.gapFailures),
    `counters: ${JSON.stringify(c)}, renewals failed ${r.renewFailures}, GAPs failed ${r.gapFailures}`,
  )
}
