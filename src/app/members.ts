import type { ConsumerGroupMembership } from '../processing/consumer-group-runtime.ts'
import type { RuntimeGroup } from '../processing/runtime-input.ts'
import type { AppSettings, ConsumerGroupDefinition } from './definition.ts'

/** What one consumer group member runs: the runtime's input and its membership settings. */
export interface MemberPlan {
  member: RuntimeGroup
  membership: ConsumerGroupMembership
}

/** The member a defined consumer group runs in this process. */
export function membersOf(group: ConsumerGroupDefinition, settings: AppSettings): MemberPlan[] {
  return [
    {
      member: {
        group: { name: group.name, segmentId: -1, segmentOrigin: group.name },
        label: group.name,
        topics: group.topics,
        revokeTimeoutMs: group.settings.revokeTimeoutMs,
        shutdownTimeoutMs: settings.shutdownTimeoutMs,
        statisticsIntervalMs: settings.statisticsIntervalMs,
      },
      membership: group.settings,
    },
  ]
}
