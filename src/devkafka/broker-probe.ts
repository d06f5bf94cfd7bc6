import { randomUUID } from 'node:crypto'
import { apiVersionsV4, Connection, findCoordinatorV6 } from '@platformatic/kafka'
import * as shareGroupHeartbeatV1 from '../kafka/apis/share-group-heartbeat-v1.ts'
import type { BrokerAddress } from '../kafka/bootstrap.ts'

const SHARE_GROUP_HEARTBEAT = 76

export interface BrokerFacts {
  /** Finalized feature levels, e.g. `share.version`, `metadata.version`. */
  features: Record<string, number>
  /** Highest version per API key the broker accepts. */
  apiMaxVersions: Map<number, number>
}

/**
 * A connection for one probe. A socket error after connecting (a broker that dies mid-probe) is
 * emitted as an 'error' event besides failing the pending request: without a listener it would
 * crash the process.
 */
function probeConnection(options: { connectTimeout: number; requestTimeout: number }): Connection {
  const connection = new Connection('multilane-probe', options)
  connection.on('error', () => {})
  return connection
}

/** Sends ApiVersions to one broker; resolves with what it advertises, rejects if it does not answer. */
export async function probeBroker(address: BrokerAddress, timeoutMs = 2000): Promise<BrokerFacts> {
  const connection = probeConnection({ connectTimeout: timeoutMs, requestTimeout: timeoutMs })
  try {
    await connection.connect(address.host, address.port)
    const response = await apiVersionsV4.api.async(connection, 'multilane', '0')
    const features: Record<string, number> = {}
    for (const f of response.finalizedFeatures ?? []) features[f.name] = f.maxVersionLevel
    return { features, apiMaxVersions: new Map(response.apiKeys.map((k) => [k.apiKey, k.maxVersion])) }
  } finally {
    await connection.close().catch(() => {})
  }
}

/**
 * Runs `attempt` on a fresh connection to the broker until it resolves, retrying other failures
 * for about 10 s (on a fresh cluster the first FindCoordinator creates __consumer_offsets, and
 * the group coordinator needs a moment to load it). Returns undefined once it resolves, else the
 * last failure prefixed by `failing`; rejects when the connection is lost (it will not come
 * back: the caller probes again, or sees the broker exit).
 */
async function retryOnBroker(
  address: BrokerAddress,
  failing: string,
  attempt: (connection: Connection, groupId: string) => Promise<string | undefined>,
): Promise<string | undefined> {
  const connection = probeConnection({ connectTimeout: 5000, requestTimeout: 10000 })
  const groupId = `__multilane-probe-${randomUUID()}`
  try {
    await connection.connect(address.host, address.port)
    for (let tries = 0; ; tries++) {
      try {
        return await attempt(connection, groupId)
      } catch (error) {
        if ((error as { code?: string }).code === 'PLT_KFK_NETWORK') throw error
        if (tries >= 50) return `${failing}: ${(error as Error).message}`
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  } finally {
    await connection.close().catch(() => {})
  }
}

/** Asks for `groupId`'s coordinator; throws unless the broker names one. */
async function findCoordinator(connection: Connection, groupId: string): Promise<void> {
  const found = await findCoordinatorV6.api.async(connection, 0, [groupId])
  const coordinator = found.coordinators[0]
  if (coordinator?.errorCode !== 0) throw new Error(`FindCoordinator error ${coordinator?.errorCode}`)
}

/**
 * Proves that share groups can be used: the broker must advertise ShareGroupHeartbeat v1 with
 * `share.version` ≥ 1, and a throwaway member must be able to join a share group and leave it.
 * Returns a reason string when they cannot, undefined when they can; rejects when the connection
 * fails (the broker is not, or no longer, there).
 */
export async function shareGroupsUnavailableReason(
  address: BrokerAddress,
  facts: BrokerFacts,
): Promise<string | undefined> {
  if ((facts.apiMaxVersions.get(SHARE_GROUP_HEARTBEAT) ?? -1) < 1)
    return 'the broker does not offer ShareGroupHeartbeat v1'
  if ((facts.features['share.version'] ?? 0) < 1) return 'the finalized feature share.version is not ≥ 1'
  const memberId = randomUUID()
  return retryOnBroker(address, 'joining a share group failed', async (connection, groupId) => {
    await findCoordinator(connection, groupId)
    const joined = await shareGroupHeartbeatV1.api.async(connection, groupId, memberId, 0, null, [
      '__multilane-share-probe',
    ])
    await shareGroupHeartbeatV1.api.async(connection, groupId, memberId, -1, null, null)
    return joined.memberEpoch > 0 ? undefined : `joining a share group returned epoch ${joined.memberEpoch}`
  })
}

/**
 * Proves that classic consumer groups can be used on a broker without share groups (a 3.9 node):
 * the group coordinator answers FindCoordinator for a group. Returns a reason when it never
 * does, undefined once it does; rejects when the connection fails.
 */
export function groupCoordinatorUnavailableReason(address: BrokerAddress): Promise<string | undefined> {
  return retryOnBroker(address, 'no group coordinator', async (connection, groupId) => {
    await findCoordinator(connection, groupId)
    return undefined
  })
}
