/**
 * `segments distribute | collapse | reset`: selects the app's segmented groups, refuses while
 * any group involved has members, reads the offsets, plans every group, and writes nothing
 * unless every plan passes its checks (or --force): Kafka has no multi-group transaction, so
 * validating all first is the only way not to leave a half-applied change behind.
 */
import { kafkaGroupNames } from '../../app/app-builder.ts'
import type { AppDefinition, ConsumerGroupDefinition } from '../../app/definition.ts'
import { MultilaneError } from '../../errors.ts'
import { KafkaCluster } from '../../kafka/cluster.ts'
import { type KafkaConnectionOptions, resolveConnection } from '../../kafka/connection-options.ts'
import { ConsumedRecord } from '../../processing/record.ts'
import { segmentOf } from '../../segments/routing.ts'
import { readRanges } from '../record-reader.ts'
import {
  type CollapseStep,
  collapseSteps,
  ExactCollapse,
  type ExactCollapseResult,
  planCollapse,
} from './exact-collapse.ts'
import { describeGroupMembers, type GroupMembers } from './group-members.ts'
import { commitAsAdmin, type OffsetWrite, tpKey } from './group-offsets.ts'
import { type GroupOffsets, type GroupPlan, planDistribute } from './plan.ts'
import { planReset } from './reset.ts'
import { listGroupIds, type SegmentGroup, segmentGroupsAmong } from './segment-groups.ts'
import { readGroupOffsets } from './snapshot.ts'

export type OffsetCommand = 'distribute' | 'collapse' | 'reset'

export interface OffsetCommandOptions {
  /** Origin names to work on (default: every segmented group of the app). */
  groups?: readonly string[]
  force: boolean
  dryRun: boolean
}

/** What a command did (or would do) to one segmented group. */
export interface GroupReport {
  origin: string
  count: number
  segmentGroups: string[]
  /** Segment groups of the origin on the cluster beyond the app's count (another count's). */
  otherSegmentGroups: string[]
  fingerprint: string
  plan: GroupPlan
}

export interface OffsetCommandReport {
  command: OffsetCommand
  dryRun: boolean
  force: boolean
  /** No segmented group in the app: nothing to do (not an error). */
  noSegmentedGroups: boolean
  /** Groups involved that have members: the command refused before reading anything. */
  activeGroups: GroupMembers[]
  groups: GroupReport[]
  /** Some plan had problems and --force was not given: nothing was written. */
  refused: boolean
  /** Offsets written (0 on a dry run or a refusal). */
  written: number
}

/** `Consumer group <g> was not found` (exit code 1), as Karafka says it. */
export class ConsumerGroupNotFoundError extends MultilaneError<'CONSUMER_GROUP_NOT_FOUND'> {}

/** The app's segmented groups to work on; throws CONSUMER_GROUP_NOT_FOUND for a name that is not one. */
export function segmentedGroups(app: AppDefinition, names?: readonly string[]): ConsumerGroupDefinition[] {
  const segmented = app.consumerGroups.filter((g) => g.parallelSegments.count > 1)
  if (!names || names.length === 0) return segmented
  return [...new Set(names)].map((name) => {
    const found = segmented.find((g) => g.name === name)
    if (found) return found
    const defined = app.consumerGroups.some((g) => g.name === name)
    throw new ConsumerGroupNotFoundError(
      'CONSUMER_GROUP_NOT_FOUND',
      `Consumer group ${name} was not found` +
        (defined
          ? ' among the groups with parallel segments (it is defined with parallelSegments.count 1)'
          : ` (the app defines ${app.consumerGroups.map((g) => g.name).join(', ') || 'no consumer group'})`),
    )
  })
}

/** Runs `command` on the app's segmented groups (or those named). */
export async function runOffsetCommand(
  app: AppDefinition,
  connection: KafkaConnectionOptions,
  command: OffsetCommand,
  options: OffsetCommandOptions,
): Promise<OffsetCommandReport> {
  const groups = segmentedGroups(app, options.groups)
  const report: OffsetCommandReport = {
    command,
    dryRun: options.dryRun,
    force: options.force,
    noSegmentedGroups: groups.length === 0,
    activeGroups: [],
    groups: [],
    refused: false,
    written: 0,
  }
  if (groups.length === 0) return report
  const cluster = new KafkaCluster(resolveConnection(connection))
  try {
    // Segment groups of another count (the app's count changed) hold what their segments had not
    // finished, and may still have members: they are read, checked and written with the others.
    const groupIds = await listGroupIds(cluster)
    const defined = new Set(app.consumerGroups.flatMap((g) => [g.name, ...kafkaGroupNames(g)]))
    const others = new Map<string, SegmentGroup[]>(
      groups.map((g) => [g.name, segmentGroupsAmong(groupIds, g.name, g.parallelSegments.mergeKey, defined)]),
    )
    // Every group the command reads or writes: offsets that move while they are read or
    // written over make the result wrong (and the coordinator refuses writes to a group with members).
    const involved = groups.flatMap((g) => [
      g.name,
      ...kafkaGroupNames(g),
      ...others.get(g.name)!.map((o) => o.group),
    ])
    const described = await Promise.all(involved.map((g) => describeGroupMembers(cluster, g)))
    report.activeGroups = described.filter((d) => d.members > 0)
    if (report.activeGroups.length > 0) {
      report.refused = true
      return report
    }
    for (const group of groups) {
      const offsets = await readGroupOffsets(cluster, group, others.get(group.name))
      const plan =
        command === 'distribute'
          ? planDistribute(offsets)
          : await planWithCollapse(cluster, group, offsets, command)
      report.groups.push({
        origin: group.name,
        count: group.parallelSegments.count,
        segmentGroups: offsets.segmentGroups,
        otherSegmentGroups: (offsets.otherGroups ?? []).map((o) => o.group),
        fingerprint: offsets.fingerprint,
        plan,
      })
    }
    report.refused = !options.force && report.groups.some((g) => g.plan.problems.length > 0)
    if (report.refused || options.dryRun) return report
    for (const g of report.groups) report.written += await applyPlan(cluster, g.plan)
    return report
  } finally {
    await cluster.close()
  }
}

async function planWithCollapse(
  cluster: KafkaCluster,
  group: ConsumerGroupDefinition,
  offsets: GroupOffsets,
  command: 'collapse' | 'reset',
): Promise<GroupPlan> {
  const steps = collapseSteps(offsets)
  const { results, routingErrors } = await readCollapseRanges(cluster, group, steps)
  const plan =
    command === 'collapse' ? planCollapse(offsets, steps, results) : planReset(offsets, steps, results)
  if (routingErrors > 0) {
    plan.notes.push(
      `${routingErrors} records read had a partitioner or reducer error: they count as segment 0's, as the segments routed them`,
    )
  }
  return plan
}

/** Reads the ranges of the `read` steps and decides each record by the app's routing. */
async function readCollapseRanges(
  cluster: KafkaCluster,
  group: ConsumerGroupDefinition,
  steps: readonly CollapseStep[],
): Promise<{ results: Map<string, ExactCollapseResult>; routingErrors: number }> {
  const collapses = new Map<string, ExactCollapse>()
  for (const step of steps)
    if (step.kind === 'read') collapses.set(tpKey(step.topic, step.partition), new ExactCollapse(step))
  const deserializers = new Map(group.topics.map((t) => [t.name, t.deserializer]))
  const routing = group.parallelSegments
  let routingErrors = 0
  const report = () => {
    routingErrors++
  }
  await readRanges(
    cluster,
    steps.flatMap((s) =>
      s.kind === 'read' ? [{ topic: s.topic, partition: s.partition, from: s.from, to: s.to }] : [],
    ),
    { isolationLevel: group.settings.isolationLevel },
    (range, records, readUntil) => {
      const collapse = collapses.get(tpKey(range.topic, range.partition))!
      const deserializer = deserializers.get(range.topic)!
      for (const raw of records)
        collapse.record(raw.offset, segmentOf(new ConsumedRecord(raw, deserializer), routing, report))
      collapse.readUntil(readUntil)
    },
  )
  const results = new Map<string, ExactCollapseResult>()
  for (const [key, collapse] of collapses) results.set(key, collapse.result())
  return { results, routingErrors }
}

/** Writes a plan, one admin commit per Kafka group, the origin first. Returns the offsets written. */
async function applyPlan(cluster: KafkaCluster, plan: GroupPlan): Promise<number> {
  const byGroup = new Map<string, OffsetWrite[]>()
  for (const w of plan.writes) {
    const list = byGroup.get(w.group) ?? []
    list.push({ topic: w.topic, partition: w.partition, offset: w.after.offset, metadata: w.metadata })
    byGroup.set(w.group, list)
  }
  const order = [...byGroup.keys()].sort((a, b) => Number(b === plan.origin) - Number(a === plan.origin))
  let written = 0
  for (const group of order) {
    await commitAsAdmin(cluster, group, byGroup.get(group)!)
    written += byGroup.get(group)!.length
  }
  return written
}
