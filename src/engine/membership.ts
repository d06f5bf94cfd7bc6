import type { EventEmitter } from 'node:events'
import type { EngineError } from './errors.ts'
import type { TopicPartition } from './types.ts'

/**
 * The membership's view of reconciliation. `assign` and `revoke` are awaited in order; the
 * heartbeat keeps running meanwhile, reporting the partitions still owned.
 */
export interface MembershipReconciler {
  assign(partitions: TopicPartition[]): Promise<void>
  revoke(partitions: TopicPartition[], lost: boolean): Promise<void>
}

export interface MembershipEvents {
  /** A heartbeat succeeded (the first one means the member joined). */
  heartbeat: [{ memberId: string; memberEpoch: number }]
  heartbeat_error: [{ error: Error; errorName: string | undefined }]
  /** Unrecoverable (e.g. authorization, unsupported protocol, a refused assignment): the consumer must stop. */
  fatal: [EngineError]
  /** Heartbeating stopped (leave or fatal). */
  stopped: []
}

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
