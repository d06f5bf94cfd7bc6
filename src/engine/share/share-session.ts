import { setTimeout as sleep } from 'node:timers/promises'
import type { Connection } from '@platformatic/kafka'
import { IMPLEMENTED_VERSIONS } from '../../kafka/api-versions.ts'
import { MalformedResponseError } from '../../kafka/apis/decode.ts'
import * as shareAcknowledgeV1 from '../../kafka/apis/share-acknowledge-v1.ts'
import * as shareAcknowledgeV2 from '../../kafka/apis/share-acknowledge-v2.ts'
import * as shareFetchV1 from '../../kafka/apis/share-fetch-v1.ts'
import * as shareFetchV2 from '../../kafka/apis/share-fetch-v2.ts'
import { WakeSignal } from '../wake-signal.ts'
import type { ShareError } from './errors.ts'
import type { SessionHost } from './session-host.ts'
import {
  acknowledgeRequest,
  applyAcknowledgeResponse,
  applyFetchResponse,
  fetchRequest,
  lockLost,
  locksGone,
  nextEpoch,
  sessionKey,
  takeUnits,
  type Units,
} from './session-requests.ts'
import { fetchedPartitions, nextSessionStep } from './session-step.ts'
import {
  classifyFetchPartitionError,
  classifyRequestError,
  sessionFatal,
  shareKafkaError,
  stopsTheMember,
} from './share-errors.ts'
import type { SharePartition } from './share-partition.ts'

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
        if (stopsTheMember(error)) {
          this.#host.fatal(error)
          break
        }
        this.#host.events.emit('warning', { source: 'session', error: error as Error })
        // The broker may be gone for good (its partitions led elsewhere now): ask the metadata.
        this.#host.leadersStale()
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

  /** Decides (see {@link nextSessionStep}) and sends the next request; true when finished. */
  async #step(): Promise<boolean> {
    const led = this.#host.partitionsLedBy(this.nodeId)
    if (!this.#closing && this.#epoch !== 0 && this.supportsRenew && this.#host.renewEnabled()) {
      // Records fetched ahead keep their locks while they wait in the buffer. The session looks
      // again after each request (a fetch waits up to maxWaitMs) or within a second when idle.
      const now = Date.now()
      for (const p of fetchedPartitions(led)) p.renewBuffered(now, this.#host.fetch.maxWaitMs + 1500)
    }
    const step = nextSessionStep({
      closing: this.#closing,
      epoch: this.#epoch,
      flush: this.#flush,
      retryAt: this.#retryAt,
      now: Date.now(),
      led,
      renewable: this.#renewable(),
      fetch: this.#host.fetch,
      totalBuffered: this.#host.totalBuffered(),
      wantsRecords: this.#host.wantsRecords(),
    })
    switch (step.kind) {
      case 'finished':
        return true
      case 'open':
        await this.#open()
        return false
      case 'acknowledge':
        await this.#acknowledge(led, this.#epoch)
        return false
      case 'fetch':
        await this.#fetch(step.wanted)
        return false
      case 'close':
        await this.#acknowledge([], -1)
        if (step.finished) return true
        this.#epoch = 0
        this.#inSession.clear()
        return false
      case 'wait':
        await this.#wake.wait(step.ms)
        return false
    }
  }

  /**
   * False where locks cannot be renewed (a broker < 4.2, or the group disabled RENEW): records
   * fetched ahead would wait in the buffer with nothing to keep their locks, expire there and be
   * archived at the delivery count limit, never handled. Such a session fetches on demand only.
   */
  #renewable(): boolean {
    return this.supportsRenew !== false && this.#host.renewEnabled()
  }

  /**
   * Opens the session with an empty ShareFetch (epoch 0, no partitions, no wait): an opening
   * request may not carry acknowledgements, and fetching nothing here keeps the first real
   * fetch free to carry them. Costs one round trip per session.
   */
  async #open(): Promise<void> {
    this.#epoch = 0
    this.#inSession.clear()
    await this.#fetch([])
  }

  /** A ShareFetch for `wanted` carrying their queued acknowledgements (none when opening). */
  async #fetch(wanted: SharePartition[]): Promise<void> {
    const epoch = this.#epoch
    const units = epoch === 0 ? [] : takeUnits(wanted)
    const onDemand = this.#renewable() ? undefined : { maxRecords: Math.max(1, this.#host.demand()) }
    const { request, forgotten } = fetchRequest(this.#host, epoch, wanted, this.#inSession, units, onDemand)
    const requestSeq = this.#host.nextRequestSeq()
    const sentAt = Date.now()
    this.fetches++
    const response = await this.#send(units, () =>
      this.#versions!.fetch >= 2
        ? shareFetchV2.api.async(this.#connection!, request)
        : shareFetchV1.api.async(this.#connection!, request),
    )
    if (!response) return
    try {
      if (response.errorCode !== 0) {
        this.#sessionError('fetch', response.errorCode, response.errorMessage, units)
        return
      }
      this.#epoch = nextEpoch(epoch)
      for (const p of wanted)
        this.#inSession.set(sessionKey(p), { topicId: p.topicId, partition: p.partition })
      for (const [topicId, partitions] of forgotten) {
        for (const n of partitions) this.#inSession.delete(sessionKey({ topicId, partition: n }))
      }
      const outcome = applyFetchResponse(this.#host, response, units, sentAt)
      const receivedAt = Date.now()
      this.#host.events.emit('fetched', {
        requestSeq,
        nodeId: this.nodeId,
        sessionEpoch: epoch,
        sentAt,
        receivedAt,
        acknowledgements: units.reduce((n, [, u]) => n + u.length, 0),
        acquired: outcome.acquired,
      })
      if (outcome.ackResults.length > 0) {
        this.#host.events.emit('acknowledged', {
          requestSeq,
          nodeId: this.nodeId,
          via: 'ShareFetch',
          sentAt,
          receivedAt,
          results: outcome.ackResults,
        })
      }
      if (outcome.recordsAdded) this.#host.recordsAdded()
      let fatal: ShareError | undefined
      for (const e of outcome.errors) fatal ??= this.#partitionError(e.partition, e.errorCode, e.errorMessage)
      if (fatal) throw fatal
    } finally {
      this.#done()
    }
  }

  /** Sends every queued acknowledgement of `partitions` in a ShareAcknowledge (epoch -1 closes the session). */
  async #acknowledge(partitions: SharePartition[], epoch: number): Promise<void> {
    const units = takeUnits(partitions)
    this.#flush = false
    const request = acknowledgeRequest(this.#host, epoch, units)
    const requestSeq = this.#host.nextRequestSeq()
    const sentAt = Date.now()
    this.acknowledgeRequests++
    const response = await this.#send(units, () =>
      this.#versions!.acknowledge >= 2
        ? shareAcknowledgeV2.api.async(this.#connection!, request)
        : shareAcknowledgeV1.api.async(this.#connection!, request),
    )
    if (!response) return
    try {
      if (response.errorCode !== 0) {
        this.#sessionError('acknowledge', response.errorCode, response.errorMessage, units)
        return
      }
      if (epoch >= 0) this.#epoch = nextEpoch(epoch)
      else {
        this.#epoch = 0
        this.#inSession.clear()
      }
      const results = applyAcknowledgeResponse(this.#host, response, units, sentAt, epoch < 0)
      if (results.length > 0) {
        this.#host.events.emit('acknowledged', {
          requestSeq,
          nodeId: this.nodeId,
          via: 'ShareAcknowledge',
          sentAt,
          receivedAt: Date.now(),
          results,
        })
      }
    } finally {
      this.#done()
    }
  }

  /**
   * Sends one request (the only one in flight). Returns undefined when it failed without a
   * usable answer (already handled); otherwise the caller applies the answer and calls #done.
   */
  async #send<R>(units: Units, request: () => Promise<R>): Promise<R | undefined> {
    this.#busy = true
    this.requests++
    try {
      return await request()
    } catch (error) {
      this.#requestFailed(error, units)
      this.#done()
      return undefined
    }
  }

  /** The request is over and its answer applied: the member may look at the partitions again. */
  #done(): void {
    this.#busy = false
    this.#host.requestDone()
  }

  /** A top-level error: nothing in the request was applied. */
  #sessionError(
    source: 'fetch' | 'acknowledge',
    errorCode: number,
    message: string | null | undefined,
    units: Units,
  ): void {
    for (const [p, unit] of units) p.requeue(unit)
    const kind = classifyRequestError(errorCode)
    const error = shareKafkaError(
      errorCode,
      `Share${source === 'fetch' ? 'Fetch' : 'Acknowledge'} to broker ${this.nodeId}`,
      message,
    )
    if (kind === 'fatal') throw sessionFatal(error)
    // Session errors, and anything unknown: open a new session (locks survive: they belong to
    // the member and the connection, not to the session's epoch).
    this.#epoch = 0
    this.#inSession.clear()
    if (kind !== 'session') this.#retryAt = Date.now() + 500
    this.#host.events.emit('warning', { source: source, error: error })
  }

  /** Handles a partition's fetch error; returns the error when it is fatal (the caller throws it). */
  #partitionError(
    p: SharePartition,
    errorCode: number,
    message: string | null | undefined,
  ): ShareError | undefined {
    const error = shareKafkaError(
      errorCode,
      `ShareFetch ${p.topic}#${p.partition} from broker ${this.nodeId}`,
      message,
    )
    const kind = classifyFetchPartitionError(errorCode)
    if (kind === 'fatal') return sessionFatal(error)
    if (kind === 'leader_moved') {
      // The share partition left this broker, and the member's locks on it with it.
      const lost = p.loseAll(`${error.kafkaError} from broker ${this.nodeId}`)
      if (lost.processing.length > 0)
        lockLost(this.#host, p, lost.processing, error.kafkaError ?? 'leader moved')
      this.#host.leadersStale()
    } else this.#retryAt = Date.now() + 1000
    this.#host.events.emit('warning', { source: 'fetch', error: error })
    return undefined
  }

  /** The request failed without a usable answer. */
  #requestFailed(error: unknown, units: Units): void {
    if (error instanceof MalformedResponseError) {
      // The broker answered, so it applied the request: the epoch moved on, records may have
      // been acquired (they come back after the lock timeout). Resynchronize with a new
      // session; acknowledgements are sent again (already applied ones then come back as
      // lock_lost, which is what they are to the broker).
      for (const [p, unit] of units) p.requeue(unit)
      this.#epoch = 0
      this.#inSession.clear()
      this.#host.events.emit('warning', { source: 'session', error: error })
      return
    }
    // Anything else closed (or will close) the connection: the broker released the locks.
    for (const [p, unit] of units) p.requeue(unit)
    this.#host.events.emit('warning', { source: 'session', error: error as Error })
    this.#onDisconnect(`request failed: ${(error as Error).message}`)
    this.#host.leadersStale()
  }

  /** The connection is gone: so is every lock held through it. */
  #onDisconnect(reason: string): void {
    const connection = this.#connection
    this.#connection = undefined
    this.#dropped = false
    this.#epoch = 0
    this.#inSession.clear()
    if (connection) void connection.close().catch(() => {})
    for (const p of this.#host.partitionsLedBy(this.nodeId)) locksGone(this.#host, this.nodeId, p, reason)
  }

  async #closeConnection(): Promise<void> {
    const connection = this.#connection
    this.#connection = undefined
    if (connection) await connection.close().catch(() => {})
  }
}
