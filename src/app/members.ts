import type { TopicPartition } from '../engine/types.ts'
import { MultilaneError } from '../errors.ts'
import type { EventBus } from '../instrumentation/events.ts'
import type { CommitRouting } from '../processing/consumer-group/offset-commit-progress.ts'
import type { ConsumerGroupMembership } from '../processing/consumer-group/runtime.ts'
import type { RecordFilter } from '../processing/dispatcher.ts'
import type { RuntimeGroup } from '../processing/runtime-input.ts'
import { segmentFilter } from '../segments/routing.ts'
import { segmentGroupName } from '../segments/segment-names.ts'
import type { AppSettings, ConsumerGroupDefinition } from './definition.ts'

/** What one consumer group member runs: the runtime's input, its membership, its segment's filter. */
export interface MemberPlan {
  member: RuntimeGroup
  membership: ConsumerGroupMembership
  filter?: RecordFilter
  routing?: CommitRouting
}

/** What placing segments needs to know of a consumer group (a definition has it). */
export interface PlacedGroup {
  readonly parallelSegments: { readonly count: number }
}

/** Which segments this process runs (all when undefined). */
export type SegmentPlacement = readonly number[] | undefined

/**
 * A group's membership settings in `multilane run --processes` worker `worker`: a static
 * member's `groupInstanceId` becomes `<groupInstanceId>-<worker>`, since every worker joins the
 * same groups and the coordinator refuses a second member with an instance id already owned;
 * per worker slot, a restarted worker keeps its static membership.
 */
export function workerMembership<M extends { groupInstanceId?: string }>(membership: M, worker?: number): M {
  if (worker === undefined || membership.groupInstanceId === undefined) return membership
  return { ...membership, groupInstanceId: `${membership.groupInstanceId}-${worker}` }
}

/** The members a defined consumer group runs in this process: one, or one per placed segment. */
export function membersOf(
  group: ConsumerGroupDefinition,
  settings: AppSettings,
  events: EventBus,
  placement?: SegmentPlacement,
  worker?: number,
): MemberPlan[] {
  const segments = group.parallelSegments
  const membership = workerMembership(
    { ...group.settings, groupProtocol: group.settings.groupProtocol ?? settings.groupProtocol },
    worker,
  )
  const base = {
    label: group.name,
    topics: group.topics,
    revokeTimeoutMs: group.settings.revokeTimeoutMs,
    shutdownTimeoutMs: settings.shutdownTimeoutMs,
    statisticsIntervalMs: settings.statisticsIntervalMs,
  }
  if (segments.count <= 1) {
    return [
      {
        member: { ...base, group: { name: group.name, segmentId: -1, segmentOrigin: group.name } },
        membership,
      },
    ]
  }
  const ids = Array.from({ length: segments.count }, (_, i) => i).filter(
    (i) => !placement || placement.includes(i),
  )
  return ids.map((id) => {
    const name = segmentGroupName(group.name, segments.mergeKey, id)
    const info = { name, segmentId: id, segmentOrigin: group.name }
    return {
      member: { ...base, label: `${group.name} segment ${id}`, group: info },
      membership,
      filter: segmentFilter(id, segments, (type, error, record) =>
        events.emit('error.occurred', {
          type,
          error,
          consumerGroup: name,
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
        }),
      ),
      routing: {
        fingerprint: segments.fingerprint,
        mismatch: (found: string, partition: TopicPartition) => {
          events.emit('parallel_segments.fingerprint_mismatch', {
            consumerGroup: name,
            segmentId: id,
            segmentOrigin: group.name,
            topic: partition.topic,
            partition: partition.partition,
            expected: segments.fingerprint,
            found,
            action: segments.onMismatch,
          })
          if (segments.onMismatch === 'refuse') {
            throw new MultilaneError(
              'ROUTING_MISMATCH',
              `consumerGroup "${group.name}" segment ${id} (Kafka group "${name}"): ${partition.topic}#${partition.partition} was committed with routing fingerprint ${found}, this app's routing is ${segments.fingerprint} (count, mergeKey, partitioner or reducer changed, or routingVersion). Records would be processed twice or not at all. Stop every member of every segment group of "${group.name}" (also those of another count, "${group.name}${segments.mergeKey}<id>"); then \`multilane segments collapse --app <the app the segments ran> --force\` and \`multilane segments distribute --app <this app> --force\` (exact: nothing runs twice, nothing is skipped), or, without the old app, \`multilane segments reset --app <this app> --force\` (the origin resumes at the lowest offset any segment group committed: records some segment already processed above it run again, none is skipped); see docs/parallel-segments.md. Or set parallelSegments.onMismatch: 'warn' to process anyway.`,
            )
          }
        },
      },
    }
  })
}

/**
 * Checks a placement against the app's groups: every id a segment of some segmented group (a
 * typo would otherwise run nothing of it, silently). An empty list runs the unsegmented groups
 * and share groups only (a `multilane run --processes` worker left without a segment); it is
 * refused when every consumer group is segmented and there is no share group, since the process
 * would run nothing.
 */
export function checkPlacement(
  groups: readonly PlacedGroup[],
  placement: SegmentPlacement,
  shareGroups = 0,
): void {
  if (placement === undefined) return
  if (!Array.isArray(placement)) {
    throw new MultilaneError(
      'INVALID_PLACEMENT',
      `segments must be an array of segment ids (e.g. [0, 2]), got ${typeof placement}`,
    )
  }
  const counts = groups.map((g) => g.parallelSegments.count).filter((c) => c > 1)
  if (placement.length === 0 && counts.length > 0 && counts.length === groups.length && shareGroups === 0) {
    throw new MultilaneError(
      'INVALID_PLACEMENT',
      'segments is empty, every consumer group of the app has parallel segments and there is no share group: this process would run nothing; list the segment ids to run, or leave segments out to run them all',
    )
  }
  if (counts.length === 0) {
    throw new MultilaneError(
      'INVALID_PLACEMENT',
      'segments were given, but no consumer group of the app has parallel segments',
    )
  }
  const max = Math.max(...counts)
  for (const id of placement) {
    if (!Number.isInteger(id) || id < 0 || id >= max) {
      throw new MultilaneError(
        'INVALID_PLACEMENT',
        `segment ${id} does not exist: segment ids are integers from 0 to ${max - 1} (the largest parallelSegments.count is ${max})`,
      )
    }
  }
}
