import { listOffsets } from '../engine/offset-resolver.ts'
import { MultilaneError } from '../errors.ts'
import { IMPLEMENTED_VERSIONS } from '../kafka/api-versions.ts'
import * as describeShareGroupOffsetsV0 from '../kafka/apis/describe-share-group-offsets-v0.ts'
import * as describeShareGroupOffsetsV1 from '../kafka/apis/describe-share-group-offsets-v1.ts'
import * as shareGroupDescribeV1 from '../kafka/apis/share-group-describe-v1.ts'
import { KafkaCluster } from '../kafka/cluster.ts'
import { type KafkaConnectionOptions, resolveConnection } from '../kafka/connection-options.ts'
import { alterGroupConfigs, describeGroupConfigs } from '../kafka/group-configs.ts'
import { kafkaErrorName } from '../kafka/protocol-errors.ts'

/** Why a share-group admin operation failed. */
export type ShareAdminErrorCode = 'INVALID_SETTING' | 'GROUP_NOT_FOUND' | 'DESCRIBE_FAILED'

export class ShareAdminError extends MultilaneError<ShareAdminErrorCode> {}

/** Share-group settings (group configs, KIP-932 / KIP-1240), each optional. */
export interface ShareGroupConfigs {
  /** Where a share partition starts when the group has no state for it: `earliest`, `latest` (the broker default) or `by_duration:<ISO-8601 duration>`. */
  autoOffsetReset?: string
  /** How long an acquired record stays locked (`share.record.lock.duration.ms`; the broker bounds it). */
  recordLockDurationMs?: number
  /** Deliveries before a record is archived instead of redelivered (`share.delivery.count.limit`, Kafka ≥ 4.3). */
  deliveryCountLimit?: number
  /** Records locked per partition across the group (`share.partition.max.record.locks`, Kafka ≥ 4.3). */
  partitionMaxRecordLocks?: number
  /** How long the coordinator waits before reassigning after membership changes (`share.assignment.interval.ms`). */
  assignmentIntervalMs?: number
  heartbeatIntervalMs?: number
  sessionTimeoutMs?: number
  isolationLevel?: 'read_uncommitted' | 'read_committed'
  /** Whether members may RENEW locks (`share.renew.acknowledge.enable`, Kafka ≥ 4.3). */
  renewAcknowledgeEnable?: boolean
  /**
   * The broker's own dead letter topic for the group (`errors.deadletterqueue.topic.name`,
   * Kafka ≥ 4.4 with share.version 2, KIP-1191): rejected records, and records released past
   * the delivery count limit, are written there by the broker. A topic you create needs the
   * topic config `errors.deadletterqueue.group.enable=true`; '' turns it off.
   */
  deadLetterTopic?: string
  /** With `deadLetterTopic`: copy the record's key and value, not only its metadata (`errors.deadletterqueue.copy.record.enable`). */
  deadLetterCopyRecord?: boolean
}

const SETTING_CONFIGS: Record<keyof ShareGroupConfigs, string> = {
  autoOffsetReset: 'share.auto.offset.reset',
  recordLockDurationMs: 'share.record.lock.duration.ms',
  deliveryCountLimit: 'share.delivery.count.limit',
  partitionMaxRecordLocks: 'share.partition.max.record.locks',
  assignmentIntervalMs: 'share.assignment.interval.ms',
  heartbeatIntervalMs: 'share.heartbeat.interval.ms',
  sessionTimeoutMs: 'share.session.timeout.ms',
  isolationLevel: 'share.isolation.level',
  renewAcknowledgeEnable: 'share.renew.acknowledge.enable',
  deadLetterTopic: 'errors.deadletterqueue.topic.name',
  deadLetterCopyRecord: 'errors.deadletterqueue.copy.record.enable',
}

/** The group config names and values for `settings`; throws INVALID_SETTING naming the field. */
export function shareGroupConfigEntries(settings: ShareGroupConfigs): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [field, value] of Object.entries(settings) as Array<[keyof ShareGroupConfigs, unknown]>) {
    if (value === undefined) continue
    const name = SETTING_CONFIGS[field]
    if (!name) throw new ShareAdminError('INVALID_SETTING', `unknown share-group setting "${field}"`)
    if (field === 'autoOffsetReset') {
      if (typeof value !== 'string' || !/^(earliest|latest|by_duration:P\S+)$/.test(value)) {
        throw new ShareAdminError(
          'INVALID_SETTING',
          `autoOffsetReset must be earliest, latest or by_duration:<ISO-8601 duration>, got ${JSON.stringify(value)}`,
        )
      }
    } else if (field === 'isolationLevel') {
      if (value !== 'read_uncommitted' && value !== 'read_committed') {
        throw new ShareAdminError(
          'INVALID_SETTING',
          `isolationLevel must be read_uncommitted or read_committed, got ${JSON.stringify(value)}`,
        )
      }
    } else if (field === 'deadLetterTopic') {
      if (typeof value !== 'string' || (value !== '' && !/^[a-zA-Z0-9._-]{1,249}$/.test(value))) {
        throw new ShareAdminError(
          'INVALID_SETTING',
          `deadLetterTopic must be a Kafka topic name (or '' for none), got ${JSON.stringify(value)}`,
        )
      }
    } else if (field === 'renewAcknowledgeEnable' || field === 'deadLetterCopyRecord') {
      if (typeof value !== 'boolean') {
        throw new ShareAdminError(
          'INVALID_SETTING',
          `${field} must be a boolean, got ${JSON.stringify(value)}`,
        )
      }
    } else if (!Number.isInteger(value) || (value as number) <= 0) {
      throw new ShareAdminError(
        'INVALID_SETTING',
        `${field} must be a positive integer, got ${JSON.stringify(value)}`,
      )
    }
    out[name] = String(value)
  }
  return out
}

/**
 * Sets share-group configs through IncrementalAlterConfigs on the GROUP resource. The group
 * need not exist yet (set `autoOffsetReset: 'earliest'` before the first member joins to read
 * a topic from its start). The broker's refusal (e.g. a lock duration outside its bounds)
 * becomes a GroupConfigError (code GROUP_CONFIG_FAILED) quoting the broker.
 */
export async function configureShareGroup(
  kafka: KafkaConnectionOptions,
  groupId: string,
  settings: ShareGroupConfigs,
): Promise<Record<string, string>> {
  if (!groupId) throw new ShareAdminError('INVALID_SETTING', 'group id must be a non-empty string')
  const entries = shareGroupConfigEntries(settings)
  if (Object.keys(entries).length === 0) {
    throw new ShareAdminError('INVALID_SETTING', 'nothing to configure: give at least one setting')
  }
  const cluster = new KafkaCluster(resolveConnection(kafka))
  try {
    await alterGroupConfigs(cluster, groupId, entries)
    return entries
  } finally {
    await cluster.close()
  }
}

export interface ShareGroupMemberDescription {
  memberId: string
  clientId: string
  clientHost: string
  rackId: string | null
  memberEpoch: number
  subscribedTopics: string[]
  assignment: Array<{ topic: string; partition: number }>
}

export interface SharePartitionDescription {
  topic: string
  partition: number
  /** The share-partition start offset (records below it are done); null before the group initialized it. */
  startOffset: number | null
  /** The partition's log end offset. */
  endOffset: number | null
  /** Records from the start offset not yet done (the broker's own figure on Kafka ≥ 4.3, else end − start). */
  lag: number | null
  leaderEpoch: number
}

export interface ShareGroupDescription {
  groupId: string
  /** `Empty`, `Stable`, `Dead`, … */
  state: string
  groupEpoch: number
  assignmentEpoch: number
  assignor: string
  members: ShareGroupMemberDescription[]
  partitions: SharePartitionDescription[]
  /** The group's share configs and its broker dead letter settings (effective values). */
  configs: Record<string, string>
}

/**
 * Members, assignment, start offsets and lag of a share group (ShareGroupDescribe,
 * DescribeShareGroupOffsets, ListOffsets, DescribeConfigs). GROUP_NOT_FOUND when no share group
 * of that name exists.
 */
export async function describeShareGroup(
  kafka: KafkaConnectionOptions,
  groupId: string,
): Promise<ShareGroupDescription> {
  const cluster = new KafkaCluster(resolveConnection(kafka))
  try {
    const coordinator = await cluster.findCoordinator(groupId)
    const connection = await cluster.connectionTo(coordinator.nodeId)
    await cluster.selectVersion(
      coordinator.nodeId,
      'ShareGroupDescribe',
      IMPLEMENTED_VERSIONS.ShareGroupDescribe,
    )
    const described = await shareGroupDescribeV1.api.async(connection, [groupId], false)
    const group = described.groups[0]
    if (!group)
      throw new ShareAdminError('DESCRIBE_FAILED', `ShareGroupDescribe returned nothing for "${groupId}"`)
    if (group.errorCode !== 0) {
      const name = kafkaErrorName(group.errorCode)
      throw new ShareAdminError(
        name === 'GROUP_ID_NOT_FOUND' ? 'GROUP_NOT_FOUND' : 'DESCRIBE_FAILED',
        `share group "${groupId}": ${name}${group.errorMessage ? ` (${group.errorMessage})` : ''}`,
      )
    }
    const offsetsVersion = await cluster.selectVersion(
      coordinator.nodeId,
      'DescribeShareGroupOffsets',
      IMPLEMENTED_VERSIONS.DescribeShareGroupOffsets,
    )
    const offsetsApi = offsetsVersion >= 1 ? describeShareGroupOffsetsV1.api : describeShareGroupOffsetsV0.api
    const offsets = await offsetsApi.async(connection, [{ groupId, topics: null }])
    const offsetsGroup = offsets.groups[0]
    if (offsetsGroup && offsetsGroup.errorCode !== 0) {
      throw new ShareAdminError(
        'DESCRIBE_FAILED',
        `DescribeShareGroupOffsets for "${groupId}": ${kafkaErrorName(offsetsGroup.errorCode)}`,
      )
    }
    const partitions: SharePartitionDescription[] = []
    for (const t of offsetsGroup?.topics ?? []) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) continue
        partitions.push({
          topic: t.topicName,
          partition: p.partitionIndex,
          startOffset: p.startOffset >= 0n ? Number(p.startOffset) : null,
          endOffset: null,
          lag: p.lag >= 0n ? Number(p.lag) : null,
          leaderEpoch: p.leaderEpoch,
        })
      }
    }
    partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    if (partitions.length > 0) {
      await cluster.refreshMetadata([...new Set(partitions.map((p) => p.topic))])
      const ends = await listOffsets(cluster, partitions, 'latest', 'read_uncommitted')
      for (const p of partitions) {
        p.endOffset = ends.get(`${p.topic}#${p.partition}`) ?? null
        if (p.lag === null && p.startOffset !== null && p.endOffset !== null) {
          p.lag = Math.max(0, p.endOffset - p.startOffset)
        }
      }
    }
    const configs: Record<string, string> = {}
    for (const [name, value] of await describeGroupConfigs(cluster, groupId)) {
      if (name.startsWith('share.') || name.startsWith('errors.deadletterqueue.')) configs[name] = value
    }
    return {
      groupId: group.groupId,
      state: group.groupState,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignor: group.assignorName,
      members: group.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rackId: m.rackId ?? null,
        memberEpoch: m.memberEpoch,
        subscribedTopics: m.subscribedTopicNames,
        assignment: m.assignment.topicPartitions
          .flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topicName, partition })))
          .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
      })),
      partitions,
      configs,
    }
  } finally {
    await cluster.close()
  }
}
