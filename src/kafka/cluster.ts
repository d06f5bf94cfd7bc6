import {
  apiVersionsV3,
  Connection,
  type ConnectionOptions,
  ConnectionPool,
  findCoordinatorV6,
  metadataV12,
} from '@platformatic/kafka'
import { MultilaneError } from '../errors.ts'
import {
  type ApiName,
  type BrokerApiVersions,
  brokerApiVersions,
  type SelectedVersions,
  selectVersion,
  selectVersions,
  type VersionRequirements,
} from './api-versions.ts'
import { AuthorizationError, isAuthorizationError } from './authorization.ts'
import type { BrokerAddress } from './bootstrap.ts'
import type { ResolvedConnection } from './connection-options.ts'
import { kafkaErrorName, protocolErrorName, responseOf } from './protocol-errors.ts'

/** What the engine knows about one partition's leadership. */
export interface PartitionLeader {
  nodeId: number
  leaderEpoch: number
}

/** Metadata of one topic. */
export interface TopicMetadata {
  name: string
  topicId: string
  partitions: PartitionLeader[]
}

/** A failure to reach or use the cluster; `code` says which. */
export class ClusterError extends MultilaneError<
  'NO_BROKER_REACHABLE' | 'AUTHENTICATION_FAILED' | 'UNKNOWN_BROKER' | 'COORDINATOR_NOT_FOUND'
> {}

/**
 * Connections and metadata for one client. Two connection pools: coordination traffic
 * (heartbeats, commits) must not queue behind long-polling fetches, because a broker serves
 * the requests of one connection in order.
 */
export class KafkaCluster {
  readonly clientId: string
  readonly requestTimeoutMs: number
  readonly #bootstrap: BrokerAddress[]
  readonly #control: ConnectionPool
  readonly #data: ConnectionPool
  readonly #brokers = new Map<number, BrokerAddress>()
  readonly #topicsByName = new Map<string, TopicMetadata>()
  readonly #topicsById = new Map<string, TopicMetadata>()
  /** ApiVersions per node id: asked once, on the first connection to the node. */
  readonly #versions = new Map<number, Promise<BrokerApiVersions>>()
  /** Finalized feature levels (ApiVersions v3) per node id, learnt with its versions. */
  readonly #features = new Map<number, ReadonlyMap<string, number>>()
  readonly #connectionOptions: ConnectionOptions
  readonly #dedicated = new Set<Connection>()
  /** For error messages only: never the password. */
  readonly #sasl: { username: string; mechanism: string } | undefined

  constructor(connection: ResolvedConnection) {
    const sasl = connection.options.sasl
    this.#sasl = sasl
      ? {
          username: typeof sasl.username === 'string' ? sasl.username : '(provider)',
          mechanism: sasl.mechanism,
        }
      : undefined
    this.clientId = connection.clientId
    this.requestTimeoutMs = connection.requestTimeoutMs
    this.#bootstrap = connection.brokers
    this.#connectionOptions = connection.options
    this.#control = new ConnectionPool(connection.clientId, connection.options)
    this.#data = new ConnectionPool(connection.clientId, connection.options)
  }

  /** `User:<sasl username>` (for authorization messages), or undefined without SASL. */
  get principal(): string | undefined {
    return this.#sasl ? `User:${this.#sasl.username}` : undefined
  }

  /** A control connection to any reachable broker (known brokers first, then bootstrap). */
  async anyConnection(): Promise<Connection> {
    const candidates = [...this.#brokers.values(), ...this.#bootstrap]
    try {
      return await this.#control.getFirstAvailable(candidates)
    } catch (error) {
      const tried = candidates.map((b) => `${b.host}:${b.port}`).join(', ')
      if (hasErrorCode(error, 'PLT_KFK_AUTHENTICATION')) {
        const who = this.#sasl ? ` as "${this.#sasl.username}" with ${this.#sasl.mechanism}` : ''
        throw new ClusterError(
          'AUTHENTICATION_FAILED',
          `SASL authentication${who} failed at ${tried}: check the username, password and mechanism`,
          { cause: error },
        )
      }
      throw new ClusterError('NO_BROKER_REACHABLE', `no broker reachable (tried ${tried})`, { cause: error })
    }
  }

  /** A connection to broker `nodeId`, from the control or the data (fetch) pool. */
  async connectionTo(nodeId: number, pool: 'control' | 'data' = 'control'): Promise<Connection> {
    const broker = this.brokerAddress(nodeId)
    const connection = await (pool === 'data' ? this.#data : this.#control).get(broker)
    // Learn what the broker offers on the first connection, so version choices need no round trip later.
    if (!this.#versions.has(nodeId)) void this.apiVersions(nodeId).catch(() => {})
    return connection
  }

  /** The address of broker `nodeId` (from metadata or a coordinator lookup). */
  brokerAddress(nodeId: number): BrokerAddress {
    const broker = this.#brokers.get(nodeId)
    if (!broker) throw new ClusterError('UNKNOWN_BROKER', `broker ${nodeId} is not in the metadata`)
    return broker
  }

  /**
   * A new connection to broker `nodeId` that belongs to the caller alone: no pool hands it out
   * and nothing else closes it (a share session's locks live exactly as long as the connection
   * that opened it). The caller closes it; `close()` closes any left open. `requestTimeoutMs`
   * replaces the client's for this connection (a JoinGroup may wait out a whole rebalance).
   */
  async dedicatedConnection(nodeId: number, requestTimeoutMs?: number): Promise<Connection> {
    const broker = this.brokerAddress(nodeId)
    const connection = new Connection(
      this.clientId,
      requestTimeoutMs === undefined
        ? this.#connectionOptions
        : { ...this.#connectionOptions, requestTimeout: requestTimeoutMs },
    )
    this.#dedicated.add(connection)
    connection.once('close', () => this.#dedicated.delete(connection))
    // A socket error (ECONNRESET when a broker dies) is followed by 'close', which the owner
    // watches and which fails the requests in flight. Unheard, the 'error' event would be thrown
    // as an uncaught exception and end the process. (Pooled connections get a listener from
    // their pool.)
    connection.on('error', () => {})
    try {
      await connection.connect(broker.host, broker.port)
    } catch (error) {
      this.#dedicated.delete(connection)
      throw error
    }
    return connection
  }

  /**
   * The API versions broker `nodeId` offers, asked with ApiVersions once per node id and cached
   * (a failed attempt is forgotten, so the next call asks again).
   */
  apiVersions(nodeId: number): Promise<BrokerApiVersions> {
    let cached = this.#versions.get(nodeId)
    if (!cached) {
      cached = (async () => {
        const connection = await this.#control.get(this.brokerAddress(nodeId))
        const response = await apiVersionsV3.api.async(connection, 'multilane', '0.1.0')
        this.#features.set(
          nodeId,
          new Map((response.finalizedFeatures ?? []).map((f) => [f.name, f.maxVersionLevel] as const)),
        )
        return brokerApiVersions(response.apiKeys)
      })()
      this.#versions.set(nodeId, cached)
      cached.catch(() => {
        if (this.#versions.get(nodeId) === cached) this.#versions.delete(nodeId)
      })
    }
    return cached
  }

  /**
   * The finalized level of feature `name` (e.g. `group.version`) that broker `nodeId` reports in
   * ApiVersions; 0 when the feature is not finalized (or the broker does not know it).
   */
  async featureLevel(nodeId: number, name: string): Promise<number> {
    await this.apiVersions(nodeId)
    return this.#features.get(nodeId)?.get(name) ?? 0
  }

  /**
   * The highest version of `api` that both multilane (`implemented`) and broker `nodeId` support;
   * throws UnsupportedApiVersionError (code UNSUPPORTED_API_VERSION) naming both sides otherwise.
   */
  async selectVersion(nodeId: number, api: ApiName, implemented: readonly number[]): Promise<number> {
    return selectVersion(api, implemented, await this.apiVersions(nodeId), nodeId)
  }

  /**
   * {@link selectVersion} for several APIs at once, e.g. `CONSUMER_GROUP_PINNED_VERSIONS` at
   * start: `await cluster.requireVersions(nodeId, CONSUMER_GROUP_PINNED_VERSIONS)`.
   */
  async requireVersions<R extends VersionRequirements>(
    nodeId: number,
    requirements: R,
  ): Promise<SelectedVersions<R>> {
    return selectVersions(requirements, await this.apiVersions(nodeId), nodeId)
  }

  /** Node ids of the brokers the metadata named so far. */
  knownBrokers(): number[] {
    return [...this.#brokers.keys()]
  }

  /** A control connection to an address (e.g. a coordinator). */
  async connectionToAddress(address: BrokerAddress): Promise<Connection> {
    return this.#control.get(address)
  }

  /**
   * Refreshes metadata for `topics` (names), or for all topics when null. Unknown topics are
   * left out of the result (the caller decides whether that is an error).
   */
  async refreshMetadata(topics: readonly string[] | null): Promise<Map<string, TopicMetadata>> {
    const connection = await this.anyConnection()
    let response: metadataV12.MetadataResponse
    try {
      response = await metadataV12.api.async(connection, topics ? [...topics] : null, false, false)
    } catch (error) {
      // Per-topic errors (e.g. a subscribed topic that does not exist yet) come as a
      // ResponseError that still carries the response: use what it knows.
      const partial = responseOf<metadataV12.MetadataResponse>(error)
      if (!partial) throw error
      response = partial
    }
    for (const b of response.brokers) this.#brokers.set(b.nodeId, { host: b.host, port: b.port })
    const out = new Map<string, TopicMetadata>()
    for (const t of response.topics) {
      if (t.errorCode !== 0 || !t.name) continue
      const partitions: PartitionLeader[] = []
      for (const p of t.partitions)
        partitions[p.partitionIndex] = { nodeId: p.leaderId, leaderEpoch: p.leaderEpoch }
      const meta: TopicMetadata = { name: t.name, topicId: t.topicId, partitions }
      this.#topicsByName.set(t.name, meta)
      this.#topicsById.set(t.topicId, meta)
      out.set(t.name, meta)
    }
    return out
  }

  topicByName(name: string): TopicMetadata | undefined {
    return this.#topicsByName.get(name)
  }

  topicById(topicId: string): TopicMetadata | undefined {
    return this.#topicsById.get(topicId)
  }

  /** Names for topic ids, refreshing all-topic metadata once when some are unknown. */
  async topicNames(topicIds: readonly string[]): Promise<Map<string, string>> {
    if (topicIds.some((id) => !this.#topicsById.has(id))) await this.refreshMetadata(null)
    const out = new Map<string, string>()
    for (const id of topicIds) {
      const meta = this.#topicsById.get(id)
      if (meta) out.set(id, meta.name)
    }
    return out
  }

  /** Finds the group coordinator of `groupId` (key type 0: consumer/share groups). */
  async findCoordinator(groupId: string): Promise<BrokerAddress & { nodeId: number }> {
    const connection = await this.anyConnection()
    // An ACL is missing: no retry finds a coordinator (members stop, tools fail at once).
    const denied = (kafkaError: string, cause?: unknown) =>
      new AuthorizationError(
        {
          kafkaError,
          action: `find the coordinator of group "${groupId}"`,
          needs: `DESCRIBE on group "${groupId}" (members need READ, which implies it)`,
          principal: this.principal,
        },
        { cause },
      )
    const response = await findCoordinatorV6.api.async(connection, 0, [groupId]).catch((error: unknown) => {
      const refused = protocolErrorName(error)
      if (refused !== undefined && isAuthorizationError(refused)) throw denied(refused, error)
      throw new ClusterError('COORDINATOR_NOT_FOUND', `FindCoordinator for group "${groupId}" failed`, {
        cause: error,
      })
    })
    const c = response.coordinators[0]
    const refused = kafkaErrorName(c?.errorCode ?? -1)
    if (isAuthorizationError(refused)) throw denied(refused)
    if (c?.errorCode !== 0) {
      throw new ClusterError(
        'COORDINATOR_NOT_FOUND',
        `no coordinator for group "${groupId}": ${kafkaErrorName(c?.errorCode ?? -1)}`,
      )
    }
    this.#brokers.set(c.nodeId, { host: c.host, port: c.port })
    return { nodeId: c.nodeId, host: c.host, port: c.port }
  }

  async close(): Promise<void> {
    await Promise.allSettled([
      this.#control.close(),
      this.#data.close(),
      ...[...this.#dedicated].map((c) => c.close()),
    ])
    this.#dedicated.clear()
  }
}

/** True when a broker could not be reached (refused, reset or timed out connection), at any depth of the error. */
export function isNetworkError(error: unknown): boolean {
  return hasErrorCode(error, 'PLT_KFK_NETWORK')
}

/** True when `code` appears anywhere in an error's cause / nested-errors chain. */
function hasErrorCode(error: unknown, code: string, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 8) return false
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown[] }
  if (e.code === code) return true
  if (hasErrorCode(e.cause, code, depth + 1)) return true
  return (e.errors ?? []).some((x) => hasErrorCode(x, code, depth + 1))
}
