/**
 * A consumer group's type, state and members with their assignments, as its coordinator reports
 * them: ConsumerGroupDescribe for KIP-848 ('consumer' protocol) groups, which DescribeGroups
 * reports as Dead without members, then DescribeGroups for classic groups (the assignment
 * decoded from the consumer protocol's bytes), and for every group of a broker without the
 * KIP-848 protocol (Kafka 3.x).
 */
import { consumerGroupDescribeV0, describeGroupsV5 } from '@platformatic/kafka'
import type { KafkaCluster } from '../kafka/cluster.ts'
import { kafkaErrorName, protocolErrorName, responseOf } from '../kafka/protocol-errors.ts'
import { SegmentOffsetsError } from './segment-offsets/errors.ts'
import { RetryOrFail, withCoordinator } from './segment-offsets/group-offsets.ts'

/** One member of a group. */
export interface GroupMember {
  memberId: string
  /** The static member id (`group.instance.id`), or null. */
  instanceId: string | null
  clientId: string
  clientHost: string
  /** The partitions the member owns now. */
  assignment: Array<{ topic: string; partition: number }>
}

/** What the coordinator says about a group. */
export interface GroupState {
  /** `consumer` (KIP-848), `classic`, or `none`: the coordinator does not know the group. */
  type: 'consumer' | 'classic' | 'none'
  /** `Stable`, `Empty`, `Reconciling`, …; `Dead` when the group does not exist. */
  state: string
  members: GroupMember[]
}

export async function describeGroupState(cluster: KafkaCluster, group: string): Promise<GroupState> {
  return withCoordinator(cluster, group, 'GROUP_DESCRIBE_FAILED', 'Describing', async (nodeId) => {
    const connection = await cluster.connectionTo(nodeId)
    const described = await call(() => consumerGroupDescribeV0.api.async(connection, [group], false))
    const g = described.groups[0]
    const error = kafkaErrorName(g?.errorCode ?? 0)
    if (g && error === 'NONE') {
      return {
        type: 'consumer',
        state: g.groupState,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId ?? null,
          clientId: m.clientId,
          clientHost: m.clientHost,
          assignment: m.assignment.topicPartitions.flatMap((t) =>
            t.partitions.map((partition) => ({ topic: t.topicName, partition })),
          ),
        })),
      }
    }
    // A classic group is "not found" for ConsumerGroupDescribe (Kafka 4.x answers
    // GROUP_ID_NOT_FOUND, with a message saying it is not a consumer group). A broker without
    // the KIP-848 protocol (Kafka 3.x, or 4.x with it disabled) answers UNSUPPORTED_VERSION:
    // every group there is classic.
    if (error !== 'GROUP_ID_NOT_FOUND' && error !== 'UNSUPPORTED_VERSION') fail(group, error)
    const classic = await call(() => describeGroupsV5.api.async(connection, [group], false))
    const c = classic.groups[0]
    const classicError = kafkaErrorName(c?.errorCode ?? 0)
    if (classicError !== 'NONE') fail(group, classicError)
    const state = c?.groupState ?? 'Dead'
    return {
      type: state === 'Dead' ? 'none' : 'classic',
      state,
      members: (c?.members ?? []).map((m) => ({
        memberId: m.memberId,
        instanceId: m.groupInstanceId ?? null,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: c?.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [],
      })),
    }
  })
}

/**
 * The partitions of a classic ConsumerProtocolAssignment (any version: version int16, then
 * [topic string, [partition int32]], user data and later fields are ignored). Bytes that do
 * not decode give no partitions rather than an error: the assignment is informational here.
 */
export function decodeAssignment(
  bytes: Buffer | null | undefined,
): Array<{ topic: string; partition: number }> {
  if (!bytes || bytes.length < 6) return []
  const out: Array<{ topic: string; partition: number }> = []
  try {
    let at = 2
    const topics = bytes.readInt32BE(at)
    at += 4
    for (let t = 0; t < topics; t++) {
      const length = bytes.readInt16BE(at)
      at += 2
      const topic = bytes.toString('utf8', at, at + length)
      at += length
      const partitions = bytes.readInt32BE(at)
      at += 4
      for (let p = 0; p < partitions; p++) {
        out.push({ topic, partition: bytes.readInt32BE(at) })
        at += 4
      }
    }
  } catch {
    return []
  }
  return out
}

async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request()
  } catch (error) {
    const response = responseOf<T>(error)
    if (response) return response
    throw new RetryOrFail(protocolErrorName(error) ?? 'NETWORK_EXCEPTION', error)
  }
}

function fail(group: string, error: string): never {
  if (
    error === 'NOT_COORDINATOR' ||
    error === 'COORDINATOR_NOT_AVAILABLE' ||
    error === 'COORDINATOR_LOAD_IN_PROGRESS'
  ) {
    throw new RetryOrFail(error)
  }
  throw new SegmentOffsetsError(
    'GROUP_DESCRIBE_FAILED',
    `Describing consumer group ${group} failed: ${error}`,
  )
}
