import type { KafkaCluster } from '../kafka/cluster.ts'
import type { ClassicAssignor } from './classic/assignor.ts'
import { ClassicMembership } from './classic/classic-membership.ts'
import { CLASSIC_ASSIGNORS } from './classic/leader.ts'
import { EngineError } from './errors.ts'
import { type GroupConsumerOptions, positive } from './group-consumer-options.ts'
import { GroupMembership } from './group-membership.ts'
import type { ConsumerMembership, GroupProtocol, MembershipReconciler } from './membership.ts'

/** A consumer's membership options, checked when the consumer is built. */
export interface MembershipSettings {
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  heartbeatIntervalMs: number
  assignors: readonly ClassicAssignor[]
}

/**
 * Checks the membership options of a GroupConsumer (INVALID_OPTION naming the option): the
 * timeouts, `groupProtocol`, the classic `assignors`, and `topicPattern` with a forced classic
 * protocol (classic subscriptions name topics).
 */
export function membershipSettings(options: GroupConsumerOptions): MembershipSettings {
  const protocol = options.groupProtocol ?? 'auto'
  if (!['auto', 'consumer', 'classic'].includes(protocol)) {
    throw new EngineError(
      'INVALID_OPTION',
      `groupProtocol must be 'auto', 'consumer' or 'classic', got ${JSON.stringify(protocol)}`,
    )
  }
  if (protocol === 'classic' && options.topicPattern) {
    throw new EngineError(
      'INVALID_OPTION',
      `group "${options.groupId}": topicPattern needs groupProtocol 'consumer' (or 'auto' on a cluster with KIP-848); the classic protocol subscribes to topic names`,
    )
  }
  return {
    rebalanceTimeoutMs: positive('rebalanceTimeoutMs', options.rebalanceTimeoutMs, 60_000),
    sessionTimeoutMs: positive('sessionTimeoutMs', options.sessionTimeoutMs, 45_000),
    heartbeatIntervalMs: positive('heartbeatIntervalMs', options.heartbeatIntervalMs, 3000),
    assignors: classicAssignors(options.assignors),
  }
}

/** The membership of `protocol` for a consumer with these options. */
export function createMembership(
  protocol: GroupProtocol,
  cluster: KafkaCluster,
  o: GroupConsumerOptions,
  settings: MembershipSettings,
  reconciler: MembershipReconciler,
): ConsumerMembership {
  if (protocol === 'classic') {
    return new ClassicMembership(
      cluster,
      {
        groupId: o.groupId,
        topics: o.topics ?? [],
        groupInstanceId: o.groupInstanceId,
        rackId: o.rackId,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        rebalanceTimeoutMs: settings.rebalanceTimeoutMs,
        heartbeatIntervalMs: settings.heartbeatIntervalMs,
        assignors: settings.assignors,
      },
      reconciler,
    )
  }
  return new GroupMembership(
    cluster,
    {
      groupId: o.groupId,
      topics: o.topics,
      topicPattern: o.topicPattern,
      groupInstanceId: o.groupInstanceId,
      rackId: o.rackId,
      rebalanceTimeoutMs: settings.rebalanceTimeoutMs,
      serverAssignor: o.serverAssignor,
    },
    reconciler,
  )
}

/** The classic assignors for the `assignors` option (default: cooperative-sticky alone). */
function classicAssignors(names: readonly string[] | undefined): readonly ClassicAssignor[] {
  const wanted = names ?? ['cooperative-sticky']
  if (!Array.isArray(wanted) || wanted.length === 0) {
    throw new EngineError('INVALID_OPTION', 'assignors must be a non-empty list of assignor names')
  }
  return wanted.map((name) => {
    const assignor = CLASSIC_ASSIGNORS.find((a) => a.name === name)
    if (!assignor) {
      throw new EngineError(
        'INVALID_OPTION',
        `assignors: unknown assignor ${JSON.stringify(name)} (multilane implements ${CLASSIC_ASSIGNORS.map((a) => a.name).join(', ')})`,
      )
    }
    return assignor
  })
}
