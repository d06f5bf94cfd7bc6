// Text output of `multilane groups list|describe`: aligned tables (JSON output is the data as is).
import type { AppGroupDescription, GroupDescription, GroupListing, GroupMember } from '../admin/groups.ts'

/** Left-aligned columns, numbers right-aligned; `-` for null. */
export function table(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number | null>>,
): string {
  const cells = rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null),
  )
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)))
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return `${[line(header), ...cells.map(line)].join('\n')}\n`
}

export function listText(groups: readonly GroupListing[], bootstrap: string): string {
  if (groups.length === 0) return `no groups on ${bootstrap}\n`
  return table(
    ['GROUP', 'TYPE', 'STATE'],
    groups.map((g) => [g.group, g.type || g.protocolType || '-', g.state]),
  )
}

function assignmentText(m: GroupMember): string {
  const byTopic = new Map<string, number[]>()
  for (const a of m.assignment) byTopic.set(a.topic, [...(byTopic.get(a.topic) ?? []), a.partition])
  return [...byTopic].map(([t, ps]) => `${t}:${ps.sort((a, b) => a - b).join(',')}`).join(' ') || '-'
}

function memberRows(
  groups: readonly GroupDescription[],
  withSegment: boolean,
): Array<Array<string | number | null>> {
  return groups.flatMap((g) =>
    g.members.map((m) => [
      ...(withSegment ? [g.segment, g.group] : []),
      m.memberId,
      m.instanceId,
      m.clientId,
      m.clientHost,
      assignmentText(m),
    ]),
  )
}

const MEMBER_HEADER = ['MEMBER-ID', 'INSTANCE-ID', 'CLIENT-ID', 'HOST', 'ASSIGNMENT']
const PARTITION_HEADER = ['TOPIC', 'PARTITION', 'COMMITTED', 'LOG-END', 'LAG', 'DONE-ABOVE', 'OWNER']

function partitionCells(p: GroupDescription['partitions'][number]): Array<string | number | null> {
  return [p.topic, p.partition, p.committed, p.logEnd, p.lag, p.doneAbove, p.owner]
}

export function describeText(g: GroupDescription): string {
  const members = g.members.length
  let out = `consumer group ${g.group} (${g.type === 'none' ? 'no members' : `${g.type} protocol`}, ${g.state}, ${members} member${members === 1 ? '' : 's'}); total lag ${g.totalLag}\n\n`
  out +=
    g.partitions.length > 0
      ? table(PARTITION_HEADER, g.partitions.map(partitionCells))
      : 'no partitions committed or assigned\n'
  if (members > 0) out += `\n${table(MEMBER_HEADER, memberRows([g], false))}`
  out += DONE_ABOVE_NOTE
  return out
}

export function describeAppText(d: AppGroupDescription): string {
  const segmented = d.segmentCount > 1
  const members = d.groups.reduce((n, g) => n + g.members.length, 0)
  let out =
    `consumer group ${d.origin} of the app${segmented ? ` (${d.segmentCount} parallel segments)` : ''}: ` +
    `${members} member${members === 1 ? '' : 's'}; total lag ${d.totalLag}\n\n`
  const rows = d.groups.flatMap((g) => g.partitions.map((p) => [g.segment, g.group, ...partitionCells(p)]))
  out += table(['SEGMENT', 'GROUP', ...PARTITION_HEADER], rows)
  if (members > 0) out += `\n${table(['SEGMENT', 'GROUP', ...MEMBER_HEADER], memberRows(d.groups, true))}`
  const states = d.groups.map(
    (g) => `${g.group}: ${g.type === 'none' ? 'never ran' : `${g.type} protocol, ${g.state}`}`,
  )
  out += `\n${states.join('\n')}\n`
  out += DONE_ABOVE_NOTE
  return out
}

const DONE_ABOVE_NOTE =
  '\nLAG = LOG-END − COMMITTED. DONE-ABOVE: records above COMMITTED the offset map records as done (skipped, not replayed, on restart).\n'
