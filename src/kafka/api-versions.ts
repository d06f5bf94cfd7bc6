import { MultilaneError } from '../errors.ts'

/** Protocol keys of the APIs whose versions multilane checks (Kafka's `ApiKeys`). */
export const API_KEYS = {
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  ApiVersions: 18,
  DescribeConfigs: 32,
  IncrementalAlterConfigs: 44,
  ConsumerGroupHeartbeat: 68,
  ConsumerGroupDescribe: 69,
  ShareGroupHeartbeat: 76,
  ShareGroupDescribe: 77,
  ShareFetch: 78,
  ShareAcknowledge: 79,
  DescribeShareGroupOffsets: 90,
} as const

/** A Kafka API by its protocol name (`Fetch`, `ShareFetch`, …). */
export type ApiName = keyof typeof API_KEYS

/** An inclusive range of versions of one API. */
export interface VersionRange {
  min: number
  max: number
}

/** What one broker offers (from its ApiVersions response), by API key. */
export type BrokerApiVersions = ReadonlyMap<number, VersionRange>

/**
 * The versions multilane implements per API, for the APIs whose version is chosen per broker
 * rather than pinned. Highest first is not required; selection takes the highest common one.
 */
export const IMPLEMENTED_VERSIONS = {
  ShareGroupHeartbeat: [1],
  ShareGroupDescribe: [1],
  ShareFetch: [1, 2],
  ShareAcknowledge: [1, 2],
  DescribeShareGroupOffsets: [0, 1],
} as const satisfies Partial<Record<ApiName, readonly number[]>>

/**
 * The versions the consumer-group engine is written against (one each). Check them with
 * `KafkaCluster.requireVersions` at start to fail with a clear error on an old broker instead of
 * an UNSUPPORTED_VERSION from the first request.
 */
export const CONSUMER_GROUP_PINNED_VERSIONS = {
  Fetch: [17],
  OffsetCommit: [9],
  OffsetFetch: [9],
  ListOffsets: [9],
  Metadata: [12],
  FindCoordinator: [6],
  ConsumerGroupHeartbeat: [1],
} as const satisfies Partial<Record<ApiName, readonly number[]>>

/**
 * What a classic-protocol member needs besides the fetch/offset APIs above (its membership
 * replaces ConsumerGroupHeartbeat). Apache Kafka 3.9 and 4.x offer them all.
 */
export const CLASSIC_GROUP_PINNED_VERSIONS = {
  Fetch: [17],
  OffsetCommit: [9],
  OffsetFetch: [9],
  ListOffsets: [9],
  Metadata: [12],
  FindCoordinator: [6],
  JoinGroup: [9],
  SyncGroup: [5],
  Heartbeat: [4],
  LeaveGroup: [5],
} as const satisfies Partial<Record<ApiName, readonly number[]>>

/** Requirements for several APIs at once: name → versions multilane implements. */
export type VersionRequirements = Partial<Record<ApiName, readonly number[]>>

/** The chosen version per API of a requirement set. */
export type SelectedVersions<R extends VersionRequirements> = { [K in keyof R]: number }

/**
 * No version of an API is both implemented by multilane and offered by the broker. Names the
 * API, what multilane implements and what the broker offers (null: not at all).
 */
export class UnsupportedApiVersionError extends MultilaneError<'UNSUPPORTED_API_VERSION'> {
  readonly api: string
  readonly apiKey: number
  readonly implemented: readonly number[]
  readonly offered: VersionRange | null
  readonly nodeId: number | undefined

  constructor(
    api: string,
    apiKey: number,
    implemented: readonly number[],
    offered: VersionRange | null,
    nodeId?: number,
  ) {
    const broker = nodeId === undefined ? 'the broker' : `broker ${nodeId}`
    const offers = offered ? `offers ${formatRange(offered)}` : 'does not offer it at all'
    super(
      'UNSUPPORTED_API_VERSION',
      `${broker} supports no version of ${api} (key ${apiKey}) that multilane implements: ` +
        `multilane implements ${formatVersions(implemented)}, ${broker} ${offers}` +
        (/Share/.test(api) ? ' (share groups need Apache Kafka ≥ 4.1 with share.version ≥ 1)' : ''),
    )
    this.api = api
    this.apiKey = apiKey
    this.implemented = [...implemented]
    this.offered = offered
    this.nodeId = nodeId
  }
}

/** The protocol key of an API name. */
export function apiKeyOf(api: ApiName): number {
  return API_KEYS[api]
}

/**
 * The highest version of `api` in `implemented` that the broker offers. Throws
 * UnsupportedApiVersionError naming both sides when there is none.
 */
export function selectVersion(
  api: ApiName,
  implemented: readonly number[],
  broker: BrokerApiVersions,
  nodeId?: number,
): number {
  const key = apiKeyOf(api)
  const offered = broker.get(key) ?? null
  let best = -1
  if (offered) {
    for (const v of implemented) if (v >= offered.min && v <= offered.max && v > best) best = v
  }
  if (best < 0) throw new UnsupportedApiVersionError(api, key, implemented, offered, nodeId)
  return best
}

/** {@link selectVersion} for several APIs; the first API without a common version throws. */
export function selectVersions<R extends VersionRequirements>(
  requirements: R,
  broker: BrokerApiVersions,
  nodeId?: number,
): SelectedVersions<R> {
  const out: Record<string, number> = {}
  for (const [api, implemented] of Object.entries(requirements)) {
    if (implemented) out[api] = selectVersion(api as ApiName, implemented, broker, nodeId)
  }
  return out as SelectedVersions<R>
}

/** Builds the lookup from an ApiVersions response's `apiKeys`. */
export function brokerApiVersions(
  apiKeys: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>,
): BrokerApiVersions {
  return new Map(apiKeys.map((a) => [a.apiKey, { min: a.minVersion, max: a.maxVersion }]))
}

function formatRange(range: VersionRange): string {
  return range.min === range.max ? `v${range.min}` : `v${range.min}–v${range.max}`
}

function formatVersions(versions: readonly number[]): string {
  const sorted = [...versions].sort((a, b) => a - b)
  return sorted.length === 0 ? 'no version' : sorted.map((v) => `v${v}`).join(', ')
}
