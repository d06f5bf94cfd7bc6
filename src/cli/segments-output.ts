// Text output of `multilane segments …`: the before/after table of the offset commands and the
// routing check. --json prints the reports instead.

import type { OffsetCommandReport } from '../admin/segment-offsets/command.ts'
import type { GroupMembers } from '../admin/segment-offsets/group-members.ts'
import type { OffsetState } from '../admin/segment-offsets/progress.ts'
import type { CheckReport, GroupCheck } from '../admin/segments-check.ts'

/** Karafka's words when the app has no segmented group (not an error: exit code 0). */
export const NO_SEGMENTED_GROUPS = 'No consumer groups with parallel segments configuration found'

function state(s: OffsetState | null): string {
  if (!s) return '-'
  return s.mapped > 0 ? `${s.offset} +${s.mapped} mapped` : String(s.offset)
}

function table(header: string[], rows: string[][], indent = '  '): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    `${indent}${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export function activeGroupLine(g: GroupMembers): string {
  const them = g.members === 1 ? 'it' : 'them'
  return `Consumer group ${g.group} has ${g.members} active member${g.members === 1 ? '' : 's'}: stop ${them} before changing offsets (Kafka refuses offset changes while a group has members)`
}

/** The before/after tables and notes of an offset command (stdout). */
export function offsetCommandText(report: OffsetCommandReport): string {
  const out: string[] = []
  for (const g of report.groups) {
    out.push(
      `${report.command} ${g.origin}: ${g.count} segments (${g.segmentGroups[0]} … ${g.segmentGroups.at(-1)}), routing fingerprint ${g.fingerprint}`,
    )
    if (g.otherSegmentGroups.length > 0) {
      out.push(`  also segment groups of another count on the cluster: ${g.otherSegmentGroups.join(', ')}`)
    }
    if (g.plan.writes.length === 0) {
      // A refused plan is told by the last line alone.
      if (g.plan.problems.length === 0 || report.force) out.push('  nothing to change')
    } else {
      out.push(
        table(
          ['PARTITION', 'GROUP', 'BEFORE', 'AFTER'],
          g.plan.writes.map((w) => [`${w.topic}#${w.partition}`, w.group, state(w.before), state(w.after)]),
        ),
      )
    }
    for (const note of g.plan.notes) out.push(`  note: ${note}`)
    if (report.force) for (const p of g.plan.problems) out.push(`  forced: ${p}`)
  }
  const writes = report.groups.reduce((n, g) => n + g.plan.writes.length, 0)
  if (report.refused) out.push('nothing written: the checks above refused (pass --force to write anyway)')
  // With no writes, each group said "nothing to change".
  else if (writes > 0 && report.dryRun)
    out.push(`dry run: nothing written (${writes} offset${writes === 1 ? '' : 's'} would be)`)
  else if (writes > 0) {
    const groups = new Set(report.groups.flatMap((g) => g.plan.writes.map((w) => w.group))).size
    out.push(
      `wrote ${report.written} offset${report.written === 1 ? '' : 's'} to ${groups} consumer group${groups === 1 ? '' : 's'}`,
    )
  }
  return `${out.join('\n')}\n`
}

/** The report as JSON (the metadata strings left out: the table's states say what they hold). */
export function offsetCommandJson(report: OffsetCommandReport): string {
  return `${JSON.stringify({
    ...report,
    groups: report.groups.map((g) => ({
      ...g,
      plan: {
        ...g.plan,
        writes: g.plan.writes.map(({ metadata: _, ...w }) => w),
      },
    })),
  })}\n`
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`
}

function groupCheckText(g: GroupCheck, sample: number): string {
  const out = [
    `${g.origin}: ${g.count} segments, ${g.sampled} records sampled (the last ${sample} or fewer of each of ${g.partitions} partitions of ${g.topics.join(', ')})`,
  ]
  if (g.sampled === 0) {
    out.push('  no records to sample: the topics are empty')
    return out.join('\n')
  }
  const fair = 1 / g.count
  out.push(
    table(
      ['SEGMENT', 'RECORDS', 'SHARE', 'KEYS', ''],
      g.segments.map((s) => [
        String(s.segment),
        String(s.records),
        percent(s.share),
        String(s.keys),
        s.idle ? 'idle' : s.hot ? `over 1.5× its fair share (${percent(fair)})` : '',
      ]),
    ),
  )
  if (g.routingErrors > 0) {
    out.push(`  ${g.routingErrors} records had a partitioner or reducer error: they go to segment 0`)
  }
  out.push('  the same sample with each reducer (records per segment):')
  out.push(
    table(
      ['REDUCER', ...g.segments.map((s) => String(s.segment)), 'IDLE', 'OVER 1.5×'],
      g.reducers.map((r) => [
        r.reducer === 'app'
          ? `this app's (${g.appReducer})`
          : r.reducer === 'default'
            ? 'default (hash)'
            : 'karafka (byte sum)',
        ...r.records.map(String),
        String(r.idle),
        String(r.hot),
      ]),
      '    ',
    ),
  )
  return out.join('\n')
}

export function checkText(report: CheckReport): string {
  return `${report.groups.map((g) => groupCheckText(g, report.sample)).join('\n\n')}\n`
}
