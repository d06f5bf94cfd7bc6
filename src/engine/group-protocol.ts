import { API_KEYS } from '../kafka/api-versions.ts'
import { isNetworkError, type KafkaCluster } from '../kafka/cluster.ts'
import { EngineError } from './errors.ts'
import type { GroupProtocolOption } from './group-consumer-options.ts'
import type { GroupProtocol } from './membership.ts'

/** The KIP-848 protocol is on when the cluster finalized this feature at level ≥ 1. */
export const GROUP_VERSION_FEATURE = 'group.version'

/** What the cluster offers for the KIP-848 protocol, as one broker reports it. */
export interface ConsumerProtocolSupport {
  nodeId: number
  /** The finalized `group.version` level (0: the consumer protocol is off). */
  groupVersion: number
  /** The highest ConsumerGroupHeartbeat version offered (-1: none). */
  heartbeatVersion: number
}

/**
 * Asks the first broker that answers. The presence of ConsumerGroupHeartbeat alone decides
 * nothing: Kafka 3.9 advertises its v0 with only the classic protocol enabled. The finalized
 * `group.version` feature is what turns KIP-848 on (Kafka ≥ 4.0 finalizes level 1 by default),
 * and multilane's member speaks ConsumerGroupHeartbeat v1.
 */
export async function consumerProtocolSupport(cluster: KafkaCluster): Promise<ConsumerProtocolSupport> {
  let last: unknown
  for (const nodeId of cluster.knownBrokers()) {
    try {
      const versions = await cluster.apiVersions(nodeId)
      const groupVersion = await cluster.featureLevel(nodeId, GROUP_VERSION_FEATURE)
      return {
        nodeId,
        groupVersion,
        heartbeatVersion: versions.get(API_KEYS.ConsumerGroupHeartbeat)?.max ?? -1,
      }
    } catch (error) {
      if (!isNetworkError(error)) throw error
      last = error
    }
  }
  throw last ?? new EngineError('ENGINE_NOT_STARTED', 'no broker known to ask for its group protocols')
}

/**
 * The protocol a member speaks for `requested`: `classic` as asked; `consumer` only where the
 * cluster offers it (else GROUP_PROTOCOL_UNAVAILABLE naming the feature level and the option);
 * `auto`: `consumer` where offered, `classic` elsewhere. `reason` says why, for the log.
 */
export async function chooseGroupProtocol(
  cluster: KafkaCluster,
  groupId: string,
  requested: GroupProtocolOption,
): Promise<{ protocol: GroupProtocol; reason: string }> {
  if (requested === 'classic') return { protocol: 'classic', reason: "groupProtocol is 'classic'" }
  const support = await consumerProtocolSupport(cluster)
  const offered = support.groupVersion >= 1 && support.heartbeatVersion >= 1
  const found =
    `broker ${support.nodeId} reports ${GROUP_VERSION_FEATURE} ${support.groupVersion} and ` +
    (support.heartbeatVersion < 0
      ? 'no ConsumerGroupHeartbeat'
      : `ConsumerGroupHeartbeat up to v${support.heartbeatVersion}`)
  if (offered) {
    return {
      protocol: 'consumer',
      reason: `${requested === 'auto' ? "groupProtocol 'auto'" : "groupProtocol is 'consumer'"}: ${found}`,
    }
  }
  if (requested === 'consumer') {
    throw new EngineError(
      'GROUP_PROTOCOL_UNAVAILABLE',
      `group "${groupId}": groupProtocol 'consumer' needs the KIP-848 consumer group protocol, ` +
        `which this cluster does not offer: ${found} (it needs ${GROUP_VERSION_FEATURE} ≥ 1 and ` +
        `ConsumerGroupHeartbeat v1, i.e. Apache Kafka ≥ 4.0 with the consumer protocol enabled; ` +
        `Kafka 3.x brokers have only the classic protocol). Set groupProtocol to 'classic' or 'auto'.`,
    )
  }
  return { protocol: 'classic', reason: `groupProtocol 'auto': ${found}, so the classic protocol` }
}
