import { heartbeatV4, joinGroupV9, leaveGroupV5, syncGroupV5 } from '@platformatic/kafka'
import type { KafkaCluster } from '../../kafka/cluster.ts'
import { kafkaErrorName, protocolErrorName, responseOf } from '../../kafka/protocol-errors.ts'
import type { JoinGroupProtocol, SyncGroupAssignment } from './leader.ts'

/**
 * The classic group APIs a member sends (JoinGroup v9, SyncGroup v5, Heartbeat v4,
 * LeaveGroup v5, checked at start against the broker's ApiVersions), over the cluster's control
 * connection to the coordinator. An error code in a response throws (a ResponseError whose
 * Kafka error name `protocolErrorName` reads), as @platformatic/kafka's parsers do.
 */

type Connection = Awaited<ReturnType<KafkaCluster['connectionTo']>>

export interface JoinRequest {
  groupId: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  memberId: string
  groupInstanceId: string | null
  protocolType: string
  protocols: JoinGroupProtocol[]
}

export type JoinResponse = joinGroupV9.JoinGroupResponse

/**
 * JoinGroup; a first join answered MEMBER_ID_REQUIRED (KIP-394) is sent again at once with the
 * member id the coordinator gave. `onMemberId` hears every id the coordinator assigns.
 */
export async function joinGroup(
  connection: Connection,
  request: JoinRequest,
  onMemberId: (memberId: string) => void,
): Promise<JoinResponse> {
  let memberId = request.memberId
  for (let attempt = 0; ; attempt++) {
    try {
      const response = throwIfError(
        await joinGroupV9.api.async(
          connection,
          request.groupId,
          request.sessionTimeoutMs,
          request.rebalanceTimeoutMs,
          memberId,
          request.groupInstanceId,
          request.protocolType,
          request.protocols,
          null,
        ),
      )
      onMemberId(response.memberId)
      return response
    } catch (error) {
      const response = responseOf<JoinResponse>(error)
      if (attempt === 0 && protocolErrorName(error) === 'MEMBER_ID_REQUIRED' && response?.memberId) {
        memberId = response.memberId
        onMemberId(memberId)
        continue
      }
      throw error
    }
  }
}

export async function syncGroup(
  connection: Connection,
  groupId: string,
  generationId: number,
  memberId: string,
  groupInstanceId: string | null,
  protocolType: string,
  protocolName: string | null,
  assignments: SyncGroupAssignment[],
): Promise<syncGroupV5.SyncGroupResponse> {
  return throwIfError(
    await syncGroupV5.api.async(
      connection,
      groupId,
      generationId,
      memberId,
      groupInstanceId,
      protocolType,
      protocolName,
      assignments,
    ),
  )
}

export async function heartbeat(
  connection: Connection,
  groupId: string,
  generationId: number,
  memberId: string,
  groupInstanceId: string | null,
): Promise<void> {
  throwIfError(await heartbeatV4.api.async(connection, groupId, generationId, memberId, groupInstanceId))
}

export async function leaveGroup(connection: Connection, groupId: string, memberId: string): Promise<void> {
  await leaveGroupV5.api.async(connection, groupId, [{ memberId, groupInstanceId: null, reason: 'closing' }])
}

/** The Kafka error of a response with a non-zero errorCode, thrown as the library throws it. */
export class ClassicResponseError extends Error {
  readonly apiId: string
  readonly response: unknown
  constructor(apiId: string, response: unknown) {
    super(`the coordinator answered ${apiId}`)
    this.apiId = apiId
    this.response = response
  }
}

/**
 * The library throws on a non-zero errorCode already; this keeps the same contract for a
 * response that arrives with one anyway (a scripted response in unit tests, a parser change).
 */
function throwIfError<T extends { errorCode: number }>(response: T): T {
  if (response.errorCode === 0) return response
  throw new ClassicResponseError(kafkaErrorName(response.errorCode), response)
}
