import { setTimeout as sleep } from 'node:timers/promises'
import type { Connection } from '@platformatic/kafka'
import { MultilaneError } from '../../errors.ts'
import { IMPLEMENTED_VERSIONS } from '../../kafka/api-versions.ts'
import { MalformedResponseError } from '../../kafka/apis/decode.ts'
import * as shareAcknowledgeV1 from '../../kafka/apis/share-acknowledge-v1.ts'
import * as shareAcknowledgeV2 from '../../kafka/apis/share-acknowledge-v2.ts'
import type { AcknowledgeTopic } from '../../kafka/apis/share-common.ts'
import { SHARE_ACQUIRE_MODE } from '../../kafka/apis/share-common.ts'
import * as shareFetchV1 from '../../kafka/apis/share-fetch-v1.ts'
import * as shareFetchV2 from '../../kafka/apis/share-fetch-v2.ts'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import { kafkaErrorName } from '../../kafka/protocol-errors.ts'
import { WakeSignal } from '../wake-signal.ts'
import { toAcknowledgementBatches, wireType } from './acknowledgement-batches.ts'
import { type AcquiredRange, decodeAcquired } from './acquired-records.ts'
import { ShareError } from './errors.ts'
import { classifyAckError, classifyRequestError, shareKafkaError } from './share-errors.ts'
import type { AckUnit, SharePartition } from './share-partition.ts'
import type { AckResult, AcquireMode } from './types.ts'

/** Fetch sizing of the share member. */
export interface ShareFetchOptions {
  /** Records per fetch (`max.poll.records`; a soft limit in batch_optimized mode). Default 500. */
  maxRecords: number
  /** How long the broker may hold a fetch waiting for records. Default 500 ms. */
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  acquireMode: AcquireMode
}

/** A ShareFetch that came back, for statistics and for tests that prove acknowledgement overlap. */
export interface ShareFetchEvent {
  /** Increases with every request the member sends (fetches and acknowledgements). */
  requestSeq: number
  nodeId: number
  sessionEpoch: number
  sentAt: number
  receivedAt: number
  /** Acknowledgements piggybacked on this fetch. */
  acknowledgements: number
  acquired: Array<{ topic: string; partition: number; ranges: AcquiredRange[]; records: number }>
}

/** Acknowledgements the broker answered. */
export interface ShareAcknowledgedEvent {
  requestSeq: number
  nodeId: number
  via: 'ShareFetch' | 'ShareAcknowledge'
  sentAt: number
  receivedAt: number
  results: AckResult[]
}

/** What a session needs from its member. */
export interface SessionHost {
  readonly groupId: string
  readonly memberId: string
  readonly fetch: ShareFetchOptions
  readonly cluster: KafkaCluster
  /** Partitions whose leader is this node: assigned ones, and unassigned ones still holding locks. */
  partitionsLedBy(nodeId: number): SharePartition[]
  partitionById(topicId: string, partition: number): SharePartition | undefined
  /** Records buffered across the member (record_limit fetches only when none are). */
  totalBuffered(): number
  nextRequestSeq(): number
  recordsAdded(): void
  leadersStale(): void
  lockLost(partition: SharePartition, offsets: number[], reason: string): void
  fetched(event: ShareFetchEvent): void
  acknowledged(event: ShareAcknowledgedEvent): void
  warning(source: 'fetch' | 'acknowledge' | 'session', error: Error): void
  fatal(error: Error): void
  /** Sessions wake the member's flush waiters after each request. */
  requestDone(): void
}

/** The epoch after `epoch` (Kafka wraps from MAX_INT to 1, never back to 0). */
function nextEpoch(epoch: number): number {
  return epoch === 0x7fffffff ? 1 : epoch + 1
}

/**
 * One share session with one leader broker, designed around two broker facts:
 *
 * 1. The session belongs to the connection that opened it: when that connection closes, the
 *    broker releases every lock the member holds in the session's partitions. So the session
 *    owns a dedicated connection (no pool hands it out, nothing else closes it), and a lost
 *    connection means lost locks: everything held here is reported as lock_lost.
 * 2. ShareFetch and ShareAcknowledge share one epoch, and the broker re-checks it when it
 *    answers a ShareFetch: any other request of the session answered while a fetch waits
 *    (e.g. a ShareAcknowledge on a second connection) makes that fetch answer
 *    INVALID_SHARE_SESSION_EPOCH and withhold the records it acquired, which stay locked until
 *    they time out and come back with a higher delivery count. So exactly one request is in
 *    flight per session, and acknowledgements wait for the fetch in flight (at most
 *    `maxWaitMs`), then ride on the next fetch, or go alone in a ShareAcknowledge when no fetch
 *    is due, a RENEW is queued (it cannot share a fetch), or a flush asks for it.
 */
export class ShareSession {
  readonly nodeId: number
  readonly #host: SessionHost
  #connection: Connection | undefined
  #dropped = false
  /** 0: the next request opens a new session. */
  #epoch = 0
  /** Partitions the broker's session holds, by `topicId:partition`. */
  #inSession = new Map<string, { topicId: string; partition: number }>()
  #versions: { fetch: number; acknowledge: number } | undefined
  readonly #wake = new WakeSignal()
  #closing = false
  #stopped = false
  #flush = false
  #retryAt = 0
  #busy = false
  #loop: Promise<void> | undefined
  requests = 0
  fetches = 0
  acknowledgeRequests = 0

  constructor(nodeId: number, host: SessionHost) {
    this.nodeId = nodeId
    this.#host = host
  }

  get epoch(): number {
    return this.#epoch
  }

  /** True while a request is out (acknowledgements wait for it). */
  get busy(): boolean {
    return this.#busy
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  /** Something changed (acknowledgement queued, records taken, assignment): look again. */
  wake(): void {
    this.#wake.notify()
  }

  /** Send queued acknowledgements with the next request even when a fetch is due. */
  requestFlush(): void {
    this.#flush = true
    this.#wake.notify()
  }

  /**
   * Ends the session: sends what is queued (the member queued RELEASE for everything it holds),
   * then a final ShareAcknowledge (epoch -1, which also releases anything left in the session's
   * partitions), then closes the connection.
   */
  async close(): Promise<void> {
    this.#closing = true
    this.start()
    this.#wake.notify()
    await this.#loop
  }

  /** Stops at once without a final request (the member is failing). */
  async abort(): Promise<void> {
    this.#stopped = true
    this.#wake.notify()
    await this.#loop
    await this.#closeConnection()
  }

  async #run(): Promise<void> {
    let backoffMs = 100
    while (!this.#stopped) {
      try {
        if (this.#dropped) this.#onDisconnect('the connection closed')
        if (!this.#connection) {
          if (this.#closing) break // the locks went with the connection; nothing to close
          if (this.#host.partitionsLedBy(this.nodeId).every((p) => !p.assigned && p.isIdle())) {
            await this.#wake.wait(1000)
            continue
          }
          await this.#connect()
        }
        const done = await this.#step()
        if (done) break
        backoffMs = 100
      } catch (error) {
        if (
          error instanceof ShareError &&
          (error.code === 'SESSION_FATAL' || error.code === 'INVALID_OPTION')
        ) {
          this.#host.fatal(error)
          break
        }
        if (error instanceof MultilaneError && error.code === 'UNSUPPORTED_API_VERSION') {
          this.#host.fatal(error)
          break
        }
        this.#host.warning('session', error as Error)
        await sleep(backoffMs)
        backoffMs = Math.min(backoffMs * 2, 5000)
      }
    }
    await this.#closeConnection()
  }

  async #connect(): Promise<void> {
    const cluster = this.#host.cluster
    this.#versions ??= {
      fetch: await cluster.selectVersion(this.nodeId, 'ShareFetch', IMPLEMENTED_VERSIONS.ShareFetch),
      acknowledge: await cluster.selectVersion(
        this.nodeId,
        'ShareAcknowledge',
        IMPLEMENTED_VERSIONS.ShareAcknowledge,
      ),
    }
    const connection = await cluster.dedicatedConnection(this.nodeId)
    this.#connection = connection
    this.#dropped = false
    this.#epoch = 0
    this.#inSession.clear()
    connection.once('close', () => {
      if (this.#connection !== connection) return
      this.#dropped = true
      this.#wake.notify()
    })
  }

  /** Supports RENEW (ShareAcknowledge v2, Kafka ≥ 4.2); undefined until the first connection. */
  get supportsRenew(): boolean | undefined {
    return this.#versions ? this.#versions.acknowledge >= 2 : undefined
  }

  /** Decides and sends the next request; true when the session is finished. */
  async #step(): Promise<boolean> {
    const led = this.#host.partitionsLedBy(this.nodeId)
    const wanted = led.filter((p) => p.assigned && p.topicId !== '')
    const acks = led.some((p) => p.hasAcks())
    if (this.#closing) {
      // Everything queued (accepts, and the RELEASEs the member queued for what it still holds)
      // goes out in ordinary requests first, retries included; then the session ends.
      if (this.#epoch === 0) {
        if (!acks) return true
        await this.#open()
        return false
      }
      if (acks) {
        await this.#acknowledge(led, this.#epoch)
        return false
      }
      await this.#acknowledge([], -1)
      return true
    }
    if (this.#epoch === 0) {
      if ((wanted.length === 0 && !acks) || Date.now() < this.#retryAt) {
        await this.#wake.wait(Math.max(1, Math.min(1000, this.#retryAt - Date.now())))
        return false
      }
      await this.#open()
      return false
    }
    const wantedSet = new Set(wanted)
    const fetchDue = this.#fetchDue(wanted)
    const mustAcknowledge =
      acks &&
      (this.#flush ||
        !fetchDue ||
        led.some((p) => p.hasRenew()) ||
        led.some((p) => !wantedSet.has(p) && p.hasAcks()))
    if (mustAcknowledge) {
      await this.#acknowledge(led, this.#epoch)
      return false
    }
    if (fetchDue) {
      await this.#fetch(wanted)
      return false
    }
    if (wanted.length === 0 && led.every((p) => p.isIdle())) {
      // Nothing to fetch or hold here: end the session (a new assignment opens another).
      await this.#acknowledge([], -1)
      this.#epoch = 0
      this.#inSession.clear()
      return false
    }
    await this.#wake.wait(this.#retryAt > Date.now() ? this.#retryAt - Date.now() : 1000)
    return false
  }

  #fetchDue(wanted: SharePartition[]): boolean {
    if (wanted.length === 0 || Date.now() < this.#retryAt) return false
    if (Math.min(...wanted.map((p) => p.room)) <= 0) return false
    const { acquireMode, maxRecords } = this.#host.fetch
    if (acquireMode === 'record_limit') return this.#host.totalBuffered() === 0
    let buffered = 0
    for (const p of wanted) buffered += p.buffered
    return buffered < maxRecords
  }

  /**
   * Opens the session with an empty ShareFetch (epoch 0, no partitions, no wait): an opening
   * request may not carry acknowledgements, and fetching nothing here keeps the first real
   * fetch free to carry them. Costs one round trip per session.
   */
  async #open(): Promise<void> {
    await this.#fetch([], true)
  }

  /**
   * A ShareFetch for `wanted` (partitions not yet in the session are added, others forgotten)
   * carrying their queued acknowledgements (none in an opening request).
   */
  async #fetch(wanted: SharePartition[], open = false): Promise<void> {
    const connection = this.#connection!
    const { fetch, groupId, memberId } = this.#host
    const epoch = open ? 0 : this.#epoch
    const units: Array<[SharePartition, AckUnit]> = []
    for (const p of open ? [] : wanted) {
      const unit = p.nextUnit()
      if (unit) units.push([p, unit])
    }
    const topics = new Map<string, shareFetchV1.ShareFetchRequestPartition[]>()
    const wantedKeys = new Set<string>()
    for (const p of wanted) wantedKeys.add(`${p.topicId}:${p.partition}`)
    for (const p of wanted) {
      if (this.#inSession.has(`${p.topicId}:${p.partition}`)) continue
      pushPartition(topics, p.topicId, { partitionIndex: p.partition, acknowledgementBatches: [] })
    }
    for (const [p, unit] of units) {
      const batches = toAcknowledgementBatches(unit.map((e) => ({ offset: e.offset, type: ackWire(e) })))
      const list = topics.get(p.topicId) ?? []
      const existing = list.find((x) => x.partitionIndex === p.partition)
      if (existing) existing.acknowledgementBatches = batches
      else pushPartition(topics, p.topicId, { partitionIndex: p.partition, acknowledgementBatches: batches })
    }
    const forgotten = new Map<string, number[]>()
    for (const [key, tp] of this.#inSession) {
      if (!wantedKeys.has(key))
        forgotten.set(tp.topicId, [...(forgotten.get(tp.topicId) ?? []), tp.partition])
    }
    const room = wanted.length ? Math.min(...wanted.map((p) => p.room)) : 0
    const maxRecords = open ? 0 : Math.max(0, Math.min(fetch.maxRecords, room))
    const request: shareFetchV2.ShareFetchRequestV2 = {
      groupId,
      memberId,
      shareSessionEpoch: epoch,
      maxWaitMs: open ? 0 : fetch.maxWaitMs,
      minBytes: open ? 0 : fetch.minBytes,
      maxBytes: open ? 0 : fetch.maxBytes,
      maxRecords,
      batchSize: Math.max(1, fetch.maxRecords),
      shareAcquireMode:
        fetch.acquireMode === 'record_limit'
          ? SHARE_ACQUIRE_MODE.RECORD_LIMIT
          : SHARE_ACQUIRE_MODE.BATCH_OPTIMIZED,
      isRenewAck: false,
      topics: [...topics].map(([topicId, partitions]) => ({ topicId, partitions })),
      forgottenTopicsData: [...forgotten].map(([topicId, partitions]) => ({ topicId, partitions })),
    }
    const requestSeq = this.#host.nextRequestSeq()
    const sentAt = Date.now()
    this.#busy = true
    this.requests++
    this.fetches++
    let response: shareFetchV1.ShareFetchResponse
    try {
      response =
        this.#versions!.fetch >= 2
          ? await shareFetchV2.api.async(connection, request)
          : await shareFetchV1.api.async(connection, request)
    } catch (error) {
      this.#requestFailed(error, units)
      return
    } finally {
      this.#busy = false
      this.#host.requestDone()
    }
    const receivedAt = Date.now()
    if (response.errorCode !== 0) {
      this.#sessionError('fetch', response.errorCode, response.errorMessage, units)
      return
    }
    this.#epoch = nextEpoch(epoch)
    for (const p of wanted)
      this.#inSession.set(`${p.topicId}:${p.partition}`, { topicId: p.topicId, partition: p.partition })
    for (const [topicId, partitions] of forgotten)
      for (const n of partitions) this.#inSession.delete(`${topicId}:${n}`)
    const ackResults: AckResult[] = []
    const answered = new Set<SharePartition>()
    const acquired: ShareFetchEvent['acquired'] = []
    const deadline = sentAt + response.acquisitionLockTimeoutMs
    let added = false
    for (const topic of response.responses) {
      for (const pr of topic.partitions) {
        const p = this.#host.partitionById(topic.topicId, pr.partitionIndex)
        if (!p) continue
        const unit = units.find(([x]) => x === p)?.[1]
        if (unit) {
          answered.add(p)
          ackResults.push(
            ...p.settle(unit, classifyAckError(pr.acknowledgeErrorCode, pr.acknowledgeErrorMessage, p)),
          )
        }
        if (pr.errorCode !== 0) {
          this.#partitionError(p, pr.errorCode, pr.errorMessage)
          continue
        }
        if (pr.acquiredRecords.length === 0) continue
        const ranges = pr.acquiredRecords.map((a) => ({
          firstOffset: Number(a.firstOffset),
          lastOffset: Number(a.lastOffset),
          deliveryCount: a.deliveryCount,
        }))
        const decoded = decodeAcquired(p.topic, p.partition, pr.records, ranges, deadline)
        const replaced = p.addAcquired(decoded.records, decoded.gaps)
        if (replaced.length > 0) this.#host.lockLost(p, replaced, 'acquired again after the lock expired')
        acquired.push({ topic: p.topic, partition: p.partition, ranges, records: decoded.records.length })
        if (decoded.records.length > 0) added = true
      }
    }
    // Acknowledgements the broker did not answer: unknown outcome, send them again.
    for (const [p, unit] of units) if (!answered.has(p)) p.requeue(unit)
    this.#host.fetched({
      requestSeq,
      nodeId: this.nodeId,
      sessionEpoch: epoch,
      sentAt,
      receivedAt,
      acknowledgements: units.reduce((n, [, u]) => n + u.length, 0),
      acquired,
    })
    if (ackResults.length > 0) {
      this.#host.acknowledged({
        requestSeq,
        nodeId: this.nodeId,
        via: 'ShareFetch',
        sentAt,
        receivedAt,
        results: ackResults,
      })
    }
    if (added) this.#host.recordsAdded()
  }

  /** Sends every queued acknowledgement of `partitions` in a ShareAcknowledge (epoch -1 closes the session). */
  async #acknowledge(partitions: SharePartition[], epoch: number): Promise<void> {
    const connection = this.#connection!
    const units: Array<[SharePartition, AckUnit]> = []
    for (const p of partitions) {
      const unit = p.nextUnit()
      if (unit) units.push([p, unit])
    }
    this.#flush = false
    const isRenewAck = units.some(([, u]) => u.some((e) => e.type === 'renew'))
    const topics = new Map<string, AcknowledgeTopic['partitions']>()
    for (const [p, unit] of units) {
      const list = topics.get(p.topicId) ?? []
      list.push({
        partitionIndex: p.partition,
        acknowledgementBatches: toAcknowledgementBatches(
          unit.map((e) => ({ offset: e.offset, type: ackWire(e) })),
        ),
      })
      topics.set(p.topicId, list)
    }
    const request: shareAcknowledgeV2.ShareAcknowledgeRequestV2 = {
      groupId: this.#host.groupId,
      memberId: this.#host.memberId,
      shareSessionEpoch: epoch,
      isRenewAck,
      topics: [...topics].map(([topicId, ps]) => ({ topicId, partitions: ps })),
    }
    const requestSeq = this.#host.nextRequestSeq()
    const sentAt = Date.now()
    this.#busy = true
    this.requests++
    this.acknowledgeRequests++
    let response: shareAcknowledgeV1.ShareAcknowledgeResponse
    try {
      response =
        this.#versions!.acknowledge >= 2
          ? await shareAcknowledgeV2.api.async(connection, request)
          : await shareAcknowledgeV1.api.async(connection, request)
    } catch (error) {
      this.#requestFailed(error, units)
      return
    } finally {
      this.#busy = false
      this.#host.requestDone()
    }
    const receivedAt = Date.now()
    if (response.errorCode !== 0) {
      this.#sessionError('acknowledge', response.errorCode, response.errorMessage, units)
      return
    }
    if (epoch >= 0) this.#epoch = nextEpoch(epoch)
    else {
      this.#epoch = 0
      this.#inSession.clear()
    }
    const renewDeadline = sentAt + Math.max(0, response.acquisitionLockTimeoutMs)
    const results: AckResult[] = []
    const answered = new Set<SharePartition>()
    for (const topic of response.responses) {
      for (const pr of topic.partitions) {
        const p = this.#host.partitionById(topic.topicId, pr.partitionIndex)
        const unit = p && units.find(([x]) => x === p)?.[1]
        if (!p || !unit) continue
        answered.add(p)
        results.push(...p.settle(unit, classifyAckError(pr.errorCode, pr.errorMessage, p, renewDeadline)))
      }
    }
    for (const [p, unit] of units) {
      if (answered.has(p)) continue
      if (epoch < 0) {
        // The session is gone, and with it any lock these would have needed.
        results.push(
          ...p.settle(unit, { kind: 'lock_lost', error: new ShareError('LOCK_LOST', 'session closed') }),
        )
      } else p.requeue(unit)
    }
    if (results.length > 0) {
      this.#host.acknowledged({
        requestSeq,
        nodeId: this.nodeId,
        via: 'ShareAcknowledge',
        sentAt,
        receivedAt,
        results,
      })
    }
  }

  /** A top-level error: nothing in the request was applied. */
  #sessionError(
    source: 'fetch' | 'acknowledge',
    errorCode: number,
    message: string | null | undefined,
    units: Array<[SharePartition, AckUnit]>,
  ): void {
    for (const [p, unit] of units) p.requeue(unit)
    const kind = classifyRequestError(errorCode)
    const error = shareKafkaError(
      errorCode,
      `Share${source === 'fetch' ? 'Fetch' : 'Acknowledge'} to broker ${this.nodeId}`,
      message,
    )
    if (kind === 'fatal')
      throw new ShareError('SESSION_FATAL', error.message, { cause: error, kafkaError: error.kafkaError })
    // Session errors, and anything unknown: open a new session (locks survive: they belong to
    // the member and the connection, not to the session's epoch).
    this.#epoch = 0
    this.#inSession.clear()
    if (kind !== 'session') this.#retryAt = Date.now() + 500
    this.#host.warning(source, error)
  }

  #partitionError(p: SharePartition, errorCode: number, message: string | null | undefined): void {
    const name = kafkaErrorName(errorCode)
    const error = shareKafkaError(
      errorCode,
      `ShareFetch ${p.topic}#${p.partition} from broker ${this.nodeId}`,
      message,
    )
    if (name === 'TOPIC_AUTHORIZATION_FAILED') {
      throw new ShareError('SESSION_FATAL', error.message, { cause: error, kafkaError: name })
    }
    if (
      [
        'NOT_LEADER_OR_FOLLOWER',
        'FENCED_LEADER_EPOCH',
        'UNKNOWN_TOPIC_OR_PARTITION',
        'UNKNOWN_TOPIC_ID',
      ].includes(name)
    ) {
      // The share partition left this broker, and the member's locks on it with it.
      const lost = p.loseAll(`${name} from broker ${this.nodeId}`)
      if (lost.processing.length > 0) this.#host.lockLost(p, lost.processing, name)
      this.#host.leadersStale()
    } else {
      this.#retryAt = Date.now() + 1000
    }
    this.#host.warning('fetch', error)
  }

  /** The request failed without a usable answer. */
  #requestFailed(error: unknown, units: Array<[SharePartition, AckUnit]>): void {
    if (error instanceof MalformedResponseError) {
      // The broker answered, so it applied the request: the epoch moved on, records may have
      // been acquired (they come back after the lock timeout). Resynchronize with a new
      // session; acknowledgements are sent again (already applied ones then come back as
      // lock_lost, which is what they are to the broker).
      for (const [p, unit] of units) p.requeue(unit)
      this.#epoch = 0
      this.#inSession.clear()
      this.#host.warning('session', error)
      return
    }
    // Anything else closed (or will close) the connection: the broker released the locks.
    for (const [p, unit] of units) {
      p.requeue(unit)
    }
    this.#host.warning('session', error as Error)
    this.#onDisconnect(`request failed: ${(error as Error).message}`)
  }

  /** The connection is gone: so is every lock held through it. */
  #onDisconnect(reason: string): void {
    const connection = this.#connection
    this.#connection = undefined
    this.#dropped = false
    this.#epoch = 0
    this.#inSession.clear()
    if (connection) void connection.close().catch(() => {})
    for (const p of this.#host.partitionsLedBy(this.nodeId)) {
      const lost = p.loseAll(reason)
      if (lost.processing.length > 0) this.#host.lockLost(p, lost.processing, reason)
      if (lost.results.length > 0) {
        const now = Date.now()
        this.#host.acknowledged({
          requestSeq: -1,
          nodeId: this.nodeId,
          via: 'ShareAcknowledge',
          sentAt: now,
          receivedAt: now,
          results: lost.results,
        })
      }
    }
  }

  async #closeConnection(): Promise<void> {
    const connection = this.#connection
    this.#connection = undefined
    if (connection) await connection.close().catch(() => {})
  }
}

function ackWire(e: { type: string }): number {
  return e.type === 'gap' ? 0 : wireType(e.type as 'accept')
}

function pushPartition(
  topics: Map<string, shareFetchV1.ShareFetchRequestPartition[]>,
  topicId: string,
  partition: shareFetchV1.ShareFetchRequestPartition,
): void {
  const list = topics.get(topicId) ?? []
  list.push(partition)
  topics.set(topicId, list)
}
