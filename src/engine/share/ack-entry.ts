import { ShareError } from './errors.ts'
import type { AcknowledgeType, AckOutcome, AckResult, RecordDelivery } from './types.ts'

/** A partition as acknowledgement results name it. */
export interface PartitionName {
  readonly topic: string
  readonly partition: number
}

/** One acknowledgement waiting to be sent, or in flight. GAP entries have no waiters. */
export interface AckEntry {
  offset: number
  deliveryCount: number
  type: AcknowledgeType | 'gap'
  waiters: Array<(result: AckResult) => void>
  /** Sends refused with a retriable error so far. */
  attempts: number
  /** Sent after the delivery's lock deadline: the broker's "ok" does not prove it applied. */
  late?: boolean
}

/** Acknowledgements of one partition that travel in one request (the broker applies them all or none). */
export type AckUnit = AckEntry[]

/** A queued acknowledgement of one delivery (with the caller's waiter). */
export function entry(
  delivery: { offset: number; deliveryCount: number },
  type: AcknowledgeType,
  waiter?: (result: AckResult) => void,
): AckEntry {
  return {
    offset: delivery.offset,
    deliveryCount: delivery.deliveryCount,
    type,
    waiters: waiter ? [waiter] : [],
    attempts: 0,
  }
}

export function result(
  delivery: RecordDelivery,
  type: AcknowledgeType,
  outcome: AckOutcome,
  error?: ShareError,
): AckResult {
  const r: AckResult = {
    topic: delivery.topic,
    partition: delivery.partition,
    offset: delivery.offset,
    deliveryCount: delivery.deliveryCount,
    type,
    outcome,
  }
  if (error) r.error = error
  return r
}

export function notifyWaiters(e: AckEntry, p: PartitionName, outcome: AckOutcome): void {
  if (e.type === 'gap') return
  const r = result(
    { topic: p.topic, partition: p.partition, offset: e.offset, deliveryCount: e.deliveryCount },
    e.type,
    outcome,
  )
  for (const w of e.waiters) w(r)
}

export function lockLostError(p: PartitionName, offset: number | undefined, reason: string): ShareError {
  const where = offset === undefined ? `${p.topic}#${p.partition}` : `${p.topic}#${p.partition}@${offset}`
  return new ShareError('LOCK_LOST', `${where}: acquisition lock lost (${reason})`)
}

/** The delivery fields of a record (what an acknowledgement result names). */
export function pick(delivery: RecordDelivery): RecordDelivery {
  return {
    topic: delivery.topic,
    partition: delivery.partition,
    offset: delivery.offset,
    deliveryCount: delivery.deliveryCount,
  }
}

/** An acknowledgement that could not be queued (called per record: no closure per call). */
export function refusedAcknowledgement(
  delivery: RecordDelivery,
  type: AcknowledgeType,
  code: 'CONSUMER_CLOSED' | 'RENEW_UNSUPPORTED',
  message: string,
): Promise<AckResult> {
  return Promise.resolve({ ...pick(delivery), type, outcome: 'failed', error: new ShareError(code, message) })
}
