import { ShareError } from './errors.ts'
import type { AcknowledgeType, AckOutcome, AckResult, RecordDelivery } from './types.ts'

/** A partition as acknowledgement results name it. */
export interface PartitionName {
  readonly topic: string
  readonly partition: number
}

/**
 * Told the answer to an acknowledgement. An object with a method, not a callback: the caller's
 * own per-record state can be the listener, so an acknowledgement allocates no promise, resolver
 * or closure (the runtime acknowledges every record).
 */
export interface AckListener {
  acknowledged(result: AckResult): void
}

/** One acknowledgement waiting to be sent, or in flight. GAP entries have no listeners. */
export interface AckEntry {
  offset: number
  deliveryCount: number
  type: AcknowledgeType | 'gap'
  /** The first listener; later ones (renewals asked for twice) in `others`: no array per entry. */
  listener: AckListener | undefined
  others: AckListener[] | undefined
  /** Sends refused with a retriable error so far. */
  attempts: number
  /** Sent after the delivery's lock deadline: the broker's "ok" does not prove it applied. */
  late?: boolean
}

/** Acknowledgements of one partition that travel in one request (the broker applies them all or none). */
export type AckUnit = AckEntry[]

/** A queued acknowledgement of one delivery (with the caller's listener). */
export function entry(
  delivery: { offset: number; deliveryCount: number },
  type: AcknowledgeType | 'gap',
  listener?: AckListener,
): AckEntry {
  return {
    offset: delivery.offset,
    deliveryCount: delivery.deliveryCount,
    type,
    listener,
    others: undefined,
    attempts: 0,
  }
}

/** Adds a listener to an entry already queued (a second renewal of the same delivery). */
export function listen(e: AckEntry, listener: AckListener): void {
  if (!e.listener) e.listener = listener
  else if (e.others) e.others.push(listener)
  else e.others = [listener]
}

/** Tells every listener of `e` its result. */
export function tell(e: AckEntry, r: AckResult): void {
  e.listener?.acknowledged(r)
  if (e.others) for (const l of e.others) l.acknowledged(r)
}

/** A listener that resolves a promise (the public, promise-returning acknowledge). */
export class Resolver implements AckListener {
  readonly #resolve: (result: AckResult) => void
  constructor(resolve: (result: AckResult) => void) {
    this.#resolve = resolve
  }
  acknowledged(result: AckResult): void {
    this.#resolve(result)
  }
}

/**
 * Tells `listener` a result decided at once, in a microtask: a listener is never called from
 * inside the acknowledge call that registered it (as a promise's callbacks never are).
 */
export function tellLater(listener: AckListener, r: AckResult): void {
  queueMicrotask(() => listener.acknowledged(r))
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
  if (!e.listener) return
  tell(e, entryResult(p, e, e.type, outcome))
}

/** The result of an entry of `p` (of `type`: an entry's own, GAP excluded). */
export function entryResult(
  p: PartitionName,
  e: AckEntry,
  type: AcknowledgeType,
  outcome: AckOutcome,
  error?: ShareError,
): AckResult {
  const r: AckResult = {
    topic: p.topic,
    partition: p.partition,
    offset: e.offset,
    deliveryCount: e.deliveryCount,
    type,
    outcome,
  }
  if (error) r.error = error
  return r
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

/** The result of an acknowledgement that could not be queued. */
export function refused(
  delivery: RecordDelivery,
  type: AcknowledgeType,
  code: 'CONSUMER_CLOSED' | 'RENEW_UNSUPPORTED',
  message: string,
): AckResult {
  return { ...pick(delivery), type, outcome: 'failed', error: new ShareError(code, message) }
}

/**
 * Why an acknowledgement of `delivery` cannot be queued: its lock is not held (lock_lost), or
 * it already has its final acknowledgement (`final`: failed with ALREADY_ACKNOWLEDGED).
 */
export function refusedAck(
  p: PartitionName,
  delivery: RecordDelivery,
  type: AcknowledgeType,
  final: boolean,
): AckResult {
  if (!final)
    return result(delivery, type, 'lock_lost', lockLostError(p, delivery.offset, 'this delivery is not held'))
  const error = new ShareError(
    'ALREADY_ACKNOWLEDGED',
    `${p.topic}#${p.partition}@${delivery.offset}: already accepted, released or rejected`,
  )
  return result(delivery, type, 'failed', error)
}
