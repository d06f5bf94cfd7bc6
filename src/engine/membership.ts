import type { EventEmitter } from 'node:events'
import type { MembershipEvents } from './group-membership.ts'
import type { TopicPartition } from './types.ts'

/** The group protocol a consumer group member speaks. */
export type GroupProtocol = 'consumer' | 'classic'

/**
 * What `GroupConsumer` uses of a group membership, whichever protocol it speaks: the KIP-848
 * `GroupMembership` (ConsumerGroupHeartbeat) or the classic `ClassicMembership`
 * (JoinGroup / SyncGroup / Heartbeat). Both reconcile through a `MembershipReconciler` and
 * emit `MembershipEvents`.
 */
export interface ConsumerMembership extends Pick<EventEmitter<MembershipEvents>, 'on'> {
  readonly protocol: GroupProtocol
  /** KIP-848: client-generated, stable; classic: the coordinator's, '' before the first join. */
  readonly memberId: string
  /** What OffsetCommit carries: the member epoch (KIP-848) or the generation id (classic). */
  readonly memberEpoch: number
  readonly groupInstanceId: string | null
  readonly coordinatorNodeId: number | undefined
  owned(): TopicPartition[]
  /** Resolves once the member joined (first successful heartbeat / SyncGroup). */
  start(): Promise<void>
  heartbeatSoon(): void
  nextHeartbeat(timeoutMs: number): Promise<void>
  /** Stops heartbeating and leaves the group; call after the owned partitions were revoked. */
  leave(): Promise<void>
  /** Lets the running reconciliation finish and starts no other (closing). */
  stopReconciling(): void
  /** Waits until no reconciliation is running. */
  settled(): Promise<void>
}
