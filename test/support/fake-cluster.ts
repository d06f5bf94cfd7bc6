// A scripted, in-memory KafkaCluster for engine unit tests (franz-go's kfake idea at the scale
// these tests need): the test decides which brokers and topics exist, who leads each partition,
// and what each request is answered, one scripted answer at a time; the fake records every
// request so the test can assert on what the engine sent. No sockets, no broker.
//
//   const fake = new FakeCluster().topic('t', [1])       // partition 0 led by broker 1
//   fake.script('Fetch', response1, new Error('reset'), async () => response2)
//   fake.otherwise('Fetch', async () => (await delay(20), emptyFetch))
//   const fetcher = new Fetcher(fake.cluster, options)
//   ...
//   assert.equal(fake.requestsOf('Fetch').length, 3)
import type {
  Connection,
  consumerGroupHeartbeatV1,
  describeConfigsV4,
  heartbeatV4,
  joinGroupV9,
  leaveGroupV5,
  listOffsetsV9,
  offsetCommitV9,
  offsetFetchV9,
  syncGroupV5,
} from '@platformatic/kafka'
import {
  API_KEYS,
  type ApiName,
  type BrokerApiVersions,
  selectVersion,
  selectVersions,
  type VersionRange,
  type VersionRequirements,
} from '../../src/kafka/api-versions.ts'
import type { FetchResponse } from '../../src/kafka/apis/fetch-v17.ts'
import type { BrokerAddress } from '../../src/kafka/bootstrap.ts'
import {
  ClusterError,
  type KafkaCluster,
  type PartitionLeader,
  type TopicMetadata,
} from '../../src/kafka/cluster.ts'

/** What each API is answered with: the parsed response (Metadata and FindCoordinator: what KafkaCluster returns). */
export interface FakeResponses {
  Metadata: Map<string, TopicMetadata>
  FindCoordinator: BrokerAddress & { nodeId: number }
  Fetch: FetchResponse
  ListOffsets: listOffsetsV9.ListOffsetsResponse
  OffsetCommit: offsetCommitV9.OffsetCommitResponse
  OffsetFetch: offsetFetchV9.OffsetFetchResponse
  ConsumerGroupHeartbeat: consumerGroupHeartbeatV1.ConsumerGroupHeartbeatResponse
  DescribeConfigs: describeConfigsV4.DescribeConfigsResponse
  JoinGroup: joinGroupV9.JoinGroupResponse
  SyncGroup: syncGroupV5.SyncGroupResponse
  Heartbeat: heartbeatV4.HeartbeatResponse
  LeaveGroup: leaveGroupV5.LeaveGroupResponse
}

/** The response type of `api` (unknown for APIs this file has no type for, e.g. the share APIs). */
export type ResponseOf<A extends ApiName> = A extends keyof FakeResponses ? FakeResponses[A] : unknown

/** One request the engine made, in the order made. */
export interface FakeRequest {
  api: ApiName
  apiVersion: number
  /** The broker asked; -1 for Metadata and FindCoordinator (any broker answers those). */
  nodeId: number
  pool: 'control' | 'data' | 'dedicated'
  /** Date.now() when it was sent (mock timers move it). */
  at: number
  /** For Metadata: the topic names asked for (null: all topics). */
  topics?: readonly string[] | null
}

/**
 * One scripted answer: the response, an Error to fail the request with, or a function that
 * returns (or throws) either; a function may wait, e.g. for the test to reach some point.
 */
export type Answer<R> = R | Error | ((request: FakeRequest) => R | Promise<R>)

/** A connection attempt, in the order made (also the refused ones). */
export interface FakeConnect {
  /** 'any' for anyConnection(). */
  nodeId: number | 'any'
  pool: 'control' | 'data' | 'dedicated'
}

export interface FakeClusterOptions {
  /** Broker node ids (default [1]); broker n listens on fake-n:9092. */
  brokers?: number[]
  requestTimeoutMs?: number
  /** Versions every broker offers (default: 0-99 for every API, i.e. whatever multilane implements). */
  apiVersions?: Partial<Record<ApiName, VersionRange>>
  /** Finalized feature levels every broker reports (default: none, i.e. level 0). */
  features?: Record<string, number>
}

const API_NAMES = new Map<number, ApiName>(
  Object.entries(API_KEYS).map(([name, key]) => [key, name as ApiName] as const),
)

/**
 * A KafkaCluster for tests. Pass `fake.cluster` wherever the engine wants a KafkaCluster.
 * Metadata answers come from the topics set with {@link topic} / {@link moveLeader} unless a
 * Metadata answer is scripted (or set with {@link otherwise}), and FindCoordinator names the
 * first broker unless scripted likewise; the engine sees a change only after its next refresh, as with
 * a real cluster. Every other request is answered from the API's script queue, then from its
 * {@link otherwise} answer; a request with neither fails with an error naming the API.
 */
export class FakeCluster {
  readonly clientId = 'fake-cluster'
  /** No SASL user: authorization messages name no principal. */
  readonly principal: string | undefined = undefined
  readonly requestTimeoutMs: number
  /** Every request, in order (see {@link requestsOf}). */
  readonly requests: FakeRequest[] = []
  /** Every connection attempt, in order. */
  readonly connects: FakeConnect[] = []
  readonly #brokers: number[]
  readonly #versions: BrokerApiVersions
  readonly #features: Record<string, number>
  /** What the brokers know now. */
  readonly #topics = new Map<string, TopicMetadata>()
  /** What the last refreshes returned: what topicByName answers, as KafkaCluster's cache does. */
  readonly #known = new Map<string, TopicMetadata>()
  readonly #scripts = new Map<ApiName, Answer<unknown>[]>()
  readonly #defaults = new Map<ApiName, Answer<unknown>>()
  #refuse: ((target: number | 'any') => Error | undefined) | undefined
  #closed = false

  constructor(options: FakeClusterOptions = {}) {
    this.#brokers = options.brokers ?? [1]
    this.requestTimeoutMs = options.requestTimeoutMs ?? 1000
    const versions = new Map<number, VersionRange>()
    for (const [name, key] of Object.entries(API_KEYS))
      versions.set(key, options.apiVersions?.[name as ApiName] ?? { min: 0, max: 99 })
    this.#versions = versions
    this.#features = options.features ?? {}
  }

  /** The fake as the engine's KafkaCluster type. */
  get cluster(): KafkaCluster {
    return narrow<KafkaCluster>(this)
  }

  // --- scripting -------------------------------------------------------------------------

  /**
   * Creates or replaces topic `name`: one entry per partition, a leader's node id (epoch 0) or
   * a PartitionLeader; -1 for a partition without a leader.
   */
  topic(name: string, partitions: Array<number | PartitionLeader>, topicId = topicIdOf(name)): this {
    this.#topics.set(name, {
      name,
      topicId,
      partitions: partitions.map((p) => (typeof p === 'number' ? { nodeId: p, leaderEpoch: 0 } : { ...p })),
    })
    return this
  }

  /** Partition `partition` of `topic` is now led by `nodeId` (-1: no leader), one leader epoch later. */
  moveLeader(topic: string, partition: number, nodeId: number): this {
    const leader = this.#topics.get(topic)?.partitions[partition]
    if (!leader) throw new Error(`FakeCluster: no partition ${topic}#${partition}`)
    leader.nodeId = nodeId
    leader.leaderEpoch++
    return this
  }

  /** Queues answers to the next requests of `api`, in order. */
  script<A extends ApiName>(api: A, ...answers: Answer<ResponseOf<A>>[]): this {
    const queue = this.#scripts.get(api) ?? []
    queue.push(...(answers as Answer<unknown>[]))
    this.#scripts.set(api, queue)
    return this
  }

  /** Answers `api` with `answer` whenever its script queue is empty. */
  otherwise<A extends ApiName>(api: A, answer: Answer<ResponseOf<A>>): this {
    this.#defaults.set(api, answer as Answer<unknown>)
    return this
  }

  /** Answers still queued for `api` (a test can check its whole script was played). */
  pending(api: ApiName): number {
    return this.#scripts.get(api)?.length ?? 0
  }

  /**
   * Connection attempts fail with the error `refuse` returns for the broker asked ('any' for
   * anyConnection), until called again; no argument: every attempt is refused. `undefined`
   * from `refuse` lets the attempt through.
   */
  refuseConnections(refuse?: (target: number | 'any') => Error | undefined): this {
    this.#refuse =
      refuse ?? ((target) => new ClusterError('NO_BROKER_REACHABLE', `FakeCluster: broker ${target} refused`))
    return this
  }

  /** Lets every connection attempt through again. */
  acceptConnections(): this {
    this.#refuse = undefined
    return this
  }

  /** The requests made of `api`, in order. */
  requestsOf(api: ApiName): FakeRequest[] {
    return this.requests.filter((r) => r.api === api)
  }

  get closed(): boolean {
    return this.#closed
  }

  // --- KafkaCluster ----------------------------------------------------------------------

  async anyConnection(): Promise<Connection> {
    this.#connect('any', 'control')
    return narrow<Connection>(new FakeConnection(this, this.#brokers[0] ?? -1, 'control'))
  }

  async connectionTo(nodeId: number, pool: 'control' | 'data' = 'control'): Promise<Connection> {
    this.brokerAddress(nodeId)
    this.#connect(nodeId, pool)
    return narrow<Connection>(new FakeConnection(this, nodeId, pool))
  }

  async dedicatedConnection(nodeId: number, _requestTimeoutMs?: number): Promise<Connection> {
    this.brokerAddress(nodeId)
    this.#connect(nodeId, 'dedicated')
    return narrow<Connection>(new FakeConnection(this, nodeId, 'dedicated'))
  }

  async connectionToAddress(address: BrokerAddress): Promise<Connection> {
    const nodeId = this.#brokers.find((n) => `fake-${n}` === address.host) ?? -1
    this.#connect(nodeId, 'control')
    return narrow<Connection>(new FakeConnection(this, nodeId, 'control'))
  }

  brokerAddress(nodeId: number): BrokerAddress {
    if (!this.#brokers.includes(nodeId))
      throw new ClusterError('UNKNOWN_BROKER', `broker ${nodeId} is not in the metadata`)
    return { host: `fake-${nodeId}`, port: 9092 }
  }

  knownBrokers(): number[] {
    return [...this.#brokers]
  }

  async apiVersions(_nodeId: number): Promise<BrokerApiVersions> {
    return this.#versions
  }

  async featureLevel(_nodeId: number, name: string): Promise<number> {
    return this.#features[name] ?? 0
  }

  async selectVersion(nodeId: number, api: ApiName, implemented: readonly number[]): Promise<number> {
    return selectVersion(api, implemented, this.#versions, nodeId)
  }

  async requireVersions<R extends VersionRequirements>(nodeId: number, requirements: R) {
    return selectVersions(requirements, this.#versions, nodeId)
  }

  async refreshMetadata(topics: readonly string[] | null): Promise<Map<string, TopicMetadata>> {
    const request = this.#record({ api: 'Metadata', apiVersion: 12, nodeId: -1, pool: 'control', topics })
    const scripted = this.#scripted('Metadata')
    const out =
      scripted === undefined
        ? this.#metadata(topics)
        : ((await play(scripted, request)) as Map<string, TopicMetadata>)
    for (const meta of out.values()) this.#known.set(meta.name, structuredClone(meta))
    return out
  }

  topicByName(name: string): TopicMetadata | undefined {
    return this.#known.get(name)
  }

  topicById(topicId: string): TopicMetadata | undefined {
    return [...this.#known.values()].find((t) => t.topicId === topicId)
  }

  async topicNames(topicIds: readonly string[]): Promise<Map<string, string>> {
    if (topicIds.some((id) => !this.topicById(id))) await this.refreshMetadata(null)
    const out = new Map<string, string>()
    for (const id of topicIds) {
      const meta = this.topicById(id)
      if (meta) out.set(id, meta.name)
    }
    return out
  }

  async findCoordinator(_groupId: string): Promise<BrokerAddress & { nodeId: number }> {
    const request = this.#record({ api: 'FindCoordinator', apiVersion: 6, nodeId: -1, pool: 'control' })
    const scripted = this.#scripted('FindCoordinator')
    if (scripted !== undefined) return (await play(scripted, request)) as FakeResponses['FindCoordinator']
    const nodeId = this.#brokers[0] ?? -1
    return { nodeId, ...this.brokerAddress(nodeId) }
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  // --- inside ----------------------------------------------------------------------------

  /** A request that came in on one of the fake's connections. */
  answer(request: Omit<FakeRequest, 'at'>): Promise<unknown> {
    const recorded = this.#record(request)
    const answer = this.#scripted(request.api)
    if (answer === undefined) {
      return Promise.reject(
        new Error(`FakeCluster: nothing scripted for ${request.api} (broker ${request.nodeId})`),
      )
    }
    return play(answer, recorded)
  }

  #record(request: Omit<FakeRequest, 'at'>): FakeRequest {
    const recorded = { ...request, at: Date.now() }
    this.requests.push(recorded)
    return recorded
  }

  /** The next scripted answer to `api`, else its fallback. */
  #scripted(api: ApiName): Answer<unknown> | undefined {
    return this.#scripts.get(api)?.shift() ?? this.#defaults.get(api)
  }

  #connect(nodeId: number | 'any', pool: FakeConnect['pool']): void {
    this.connects.push({ nodeId, pool })
    const refused = this.#refuse?.(nodeId)
    if (refused) throw refused
  }

  #metadata(topics: readonly string[] | null): Map<string, TopicMetadata> {
    const out = new Map<string, TopicMetadata>()
    for (const name of topics ?? [...this.#topics.keys()]) {
      const meta = this.#topics.get(name)
      if (meta) out.set(name, structuredClone(meta))
    }
    return out
  }
}

type Callback = (error: Error | null, response?: unknown) => void

/** What the engine's requests see of a connection: `send` as @platformatic/kafka's API functions call it. */
class FakeConnection {
  readonly #cluster: FakeCluster
  readonly #nodeId: number
  readonly #pool: FakeRequest['pool']
  readonly #onClose: Array<() => void> = []

  constructor(cluster: FakeCluster, nodeId: number, pool: FakeRequest['pool']) {
    this.#cluster = cluster
    this.#nodeId = nodeId
    this.#pool = pool
  }

  /** (apiKey, apiVersion, createPayload, parser, requestTagged, responseTagged, callback): the payload is never encoded. */
  send(apiKey: number, apiVersion: number, ...rest: unknown[]): void {
    const callback = rest[rest.length - 1] as Callback
    const api = API_NAMES.get(apiKey)
    if (!api) {
      queueMicrotask(() => callback(new Error(`FakeCluster: API key ${apiKey} is not in API_KEYS`)))
      return
    }
    this.#cluster.answer({ api, apiVersion, nodeId: this.#nodeId, pool: this.#pool }).then(
      (response) => callback(null, response),
      (error: Error) => callback(error),
    )
  }

  once(event: 'close', listener: () => void): this {
    if (event === 'close') this.#onClose.push(listener)
    return this
  }

  async close(): Promise<void> {
    for (const listener of this.#onClose.splice(0)) listener()
  }
}

/** Plays one answer: always asynchronously, as a network round trip would. */
async function play(answer: Answer<unknown>, request: FakeRequest): Promise<unknown> {
  await Promise.resolve()
  if (answer instanceof Error) throw answer
  if (typeof answer === 'function') return (answer as (r: FakeRequest) => unknown)(request)
  return answer
}

/** A stable 22-character topic id for a name (Kafka's are random UUIDs in base64). */
function topicIdOf(name: string): string {
  return Buffer.from(name.padEnd(16, '\0').slice(0, 16)).toString('base64url').slice(0, 22)
}

/**
 * The one cast of this file. KafkaCluster and Connection are classes with #private fields, so
 * TypeScript treats them nominally and no other class can implement them. The fake implements
 * what the engine calls (FakeCluster every public member of KafkaCluster, checked at compile
 * time below), and is passed off as the class here.
 */
function narrow<T>(fake: object): T {
  return fake as T
}

// Compile-time check: FakeCluster has every public member of KafkaCluster, with its type.
type PublicOf<T> = { [K in keyof T]: T[K] }
const _implementsKafkaCluster = (fake: FakeCluster): PublicOf<KafkaCluster> => fake
void _implementsKafkaCluster
