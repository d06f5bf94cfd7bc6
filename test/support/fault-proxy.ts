// A TCP proxy in front of the real broker that corrupts chosen responses, to test how the
// engine survives what a broker (or a network) should never send, or will not send on demand:
// unknown error codes, malformed responses, a partition error in an acknowledgement's answer.
// Everything else passes through unchanged, except that the broker's address in responses
// (Metadata, FindCoordinator, node endpoints) is rewritten to the proxy's, so every connection
// of the client goes through it.
import { connect, createServer, type Server, type Socket } from 'node:net'

export type FaultKind =
  /** Sets the top-level error code (right after throttle_time_ms) to `errorCode`. */
  | 'error-code'
  /** Cuts the response body in half. */
  | 'truncate'
  /**
   * Sets the error code of the first partition of the first topic to `errorCode`, leaving the
   * top-level error code alone (ShareAcknowledge v1/v2 responses only; others pass unchanged).
   */
  | 'partition-error'

export interface Fault {
  apiKey: number
  kind: FaultKind
  errorCode?: number
  /** How many matching responses to corrupt. */
  count: number
}

export interface InjectedFault {
  apiKey: number
  kind: FaultKind
  at: number
}

export class FaultProxy {
  readonly port: number
  readonly injected: InjectedFault[] = []
  readonly #server: Server
  readonly #target: { host: string; port: number }
  readonly #faults: Fault[] = []
  readonly #sockets = new Set<Socket>()
  readonly #clients = new Set<Socket>()

  private constructor(server: Server, port: number, target: { host: string; port: number }) {
    this.#server = server
    this.port = port
    this.#target = target
  }

  /** Listens on `port` (default: any free one) and forwards to `target`. */
  static async start(target: { host: string; port: number }, port = 0): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined
    const server = createServer((client) => proxy!.connection(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', resolve)
    })
    const address = server.address()
    if (!address || typeof address === 'string') throw new Error('no proxy address')
    proxy = new FaultProxy(server, address.port, target)
    return proxy
  }

  /** Corrupts the next `count` responses of `apiKey`. */
  inject(fault: Fault): void {
    this.#faults.push({ ...fault })
  }

  /** Drops the faults still waiting for a matching response. */
  clear(): void {
    this.#faults.length = 0
  }

  /** Faults still waiting for a matching response. */
  pending(): number {
    return this.#faults.reduce((n, f) => n + f.count, 0)
  }

  /**
   * Resets every client connection (TCP RST: the client reads ECONNRESET, as when a broker
   * process dies or a network drops the connection), and the connections to the broker behind.
   */
  resetClients(): number {
    let reset = 0
    for (const s of this.#clients) {
      s.resetAndDestroy()
      reset++
    }
    return reset
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  private connection(client: Socket): void {
    const broker = connect(this.#target.port, this.#target.host)
    this.#sockets.add(client).add(broker)
    this.#clients.add(client)
    const inFlight = new Map<number, { apiKey: number; apiVersion: number }>()
    let fromClient = Buffer.alloc(0)
    let fromBroker = Buffer.alloc(0)
    client.on('data', (chunk: Buffer) => {
      fromClient = Buffer.concat([fromClient, chunk])
      while (fromClient.length >= 4 && fromClient.length >= 4 + fromClient.readInt32BE(0)) {
        const size = fromClient.readInt32BE(0)
        const frame = fromClient.subarray(0, 4 + size)
        fromClient = fromClient.subarray(4 + size)
        inFlight.set(frame.readInt32BE(8), { apiKey: frame.readInt16BE(4), apiVersion: frame.readInt16BE(6) })
        broker.write(frame)
      }
    })
    broker.on('data', (chunk: Buffer) => {
      fromBroker = Buffer.concat([fromBroker, chunk])
      while (fromBroker.length >= 4 && fromBroker.length >= 4 + fromBroker.readInt32BE(0)) {
        const size = fromBroker.readInt32BE(0)
        let frame: Buffer = Buffer.from(fromBroker.subarray(0, 4 + size))
        fromBroker = fromBroker.subarray(4 + size)
        const request = inFlight.get(frame.readInt32BE(4))
        inFlight.delete(frame.readInt32BE(4))
        this.rewriteAddress(frame)
        if (request) frame = this.maybeCorrupt(request.apiKey, request.apiVersion, frame)
        client.write(frame)
      }
    })
    const close = () => {
      client.destroy()
      broker.destroy()
      this.#sockets.delete(client)
      this.#sockets.delete(broker)
      this.#clients.delete(client)
    }
    client.on('close', close).on('error', close)
    broker.on('close', close).on('error', close)
  }

  /** COMPACT_STRING "127.0.0.1" followed by the broker's port → the proxy's port. */
  private rewriteAddress(frame: Buffer): void {
    const host = Buffer.from(this.#target.host)
    const pattern = Buffer.alloc(1 + host.length + 4)
    pattern[0] = host.length + 1
    host.copy(pattern, 1)
    pattern.writeInt32BE(this.#target.port, 1 + host.length)
    for (let i = frame.indexOf(pattern); i >= 0; i = frame.indexOf(pattern, i + 1)) {
      frame.writeInt32BE(this.port, i + 1 + host.length)
    }
  }

  private maybeCorrupt(apiKey: number, apiVersion: number, frame: Buffer): Buffer {
    const fault = this.#faults.find((f) => f.apiKey === apiKey && f.count > 0)
    if (!fault) return frame
    if (fault.kind === 'partition-error') {
      const at = SHARE_ACKNOWLEDGE_KEY === apiKey ? firstPartitionErrorAt(frame, apiVersion) : undefined
      if (at === undefined) return frame
      fault.count--
      this.injected.push({ apiKey, kind: fault.kind, at: Date.now() })
      frame.writeInt16BE(fault.errorCode ?? 9999, at)
      return frame
    }
    fault.count--
    this.injected.push({ apiKey, kind: fault.kind, at: Date.now() })
    // size (4) correlation_id (4) header TAG_BUFFER (1) throttle_time_ms (4) error_code (2)
    if (fault.kind === 'error-code') {
      frame.writeInt16BE(fault.errorCode ?? 9999, 13)
      return frame
    }
    const body = frame.length - 4
    const cut = Buffer.from(frame.subarray(0, 4 + Math.max(6, Math.floor(body / 2))))
    cut.writeInt32BE(cut.length - 4, 0)
    return cut
  }
}

const SHARE_ACKNOWLEDGE_KEY = 79

/** An unsigned varint at `at`: its value and the offset after it. */
function readUnsignedVarint(frame: Buffer, at: number): [number, number] {
  let value = 0
  let shift = 0
  for (;;) {
    const byte = frame[at++]!
    value |= (byte & 0x7f) << shift
    if ((byte & 0x80) === 0) return [value, at]
    shift += 7
  }
}

/**
 * Where the first partition's error code is in a ShareAcknowledge response (flexible versions:
 * compact strings and arrays), or undefined when the response has no partition.
 */
function firstPartitionErrorAt(frame: Buffer, apiVersion: number): number | undefined {
  // size (4) correlation_id (4) header TAG_BUFFER (1) throttle_time_ms (4) error_code (2)
  let at = 15
  const [messageLength, afterLength] = readUnsignedVarint(frame, at)
  at = afterLength + Math.max(0, messageLength - 1) // compact nullable string: length + 1, 0 = null
  if (apiVersion >= 2) at += 4 // acquisition_lock_timeout_ms
  const [topics, afterTopics] = readUnsignedVarint(frame, at)
  if (topics - 1 < 1) return undefined
  at = afterTopics + 16 // topic_id
  const [partitions, afterPartitions] = readUnsignedVarint(frame, at)
  if (partitions - 1 < 1) return undefined
  return afterPartitions + 4 // partition_index
}
