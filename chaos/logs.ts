// Parses the workers' JSON-lines logs (written by examples/chaos/app.ts) and the output of Kafka's
// own tools into the checker's inputs. Pure: text in, records out.
import type { Commit, Delivery, GroupOffset, TopicRecord } from './checker.ts'
import type { ShareEvent, ShareOffset } from './share-checker.ts'

export interface WorkerLog {
  deliveries: Delivery[]
  commits: Commit[]
  /** The group protocol each process's segment groups spoke (`group.protocol_chosen`). */
  protocols: Array<{ pid: number; group: string; protocol: string }>
  /** Lines that are not a complete JSON object (at most one per process: the line a SIGKILL cut). */
  malformed: number
}

interface LogLine {
  e?: unknown
  t?: unknown
  pid?: unknown
  w?: unknown
  g?: unknown
  seg?: unknown
  p?: unknown
  o?: unknown
  a?: unknown
  dc?: unknown
  protocol?: unknown
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** The deliveries and commits of one or more worker log files' text. */
export function parseWorkerLog(text: string): WorkerLog {
  const out: WorkerLog = { deliveries: [], commits: [], protocols: [], malformed: 0 }
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue
    let line: LogLine
    try {
      line = JSON.parse(raw) as LogLine
    } catch {
      out.malformed++
      continue
    }
    const { e, t, pid, w, g, p, o } = line
    if (e === 'protocol' && isNumber(pid) && typeof g === 'string' && typeof line.protocol === 'string') {
      out.protocols.push({ pid, group: g, protocol: line.protocol })
      continue
    }
    if (!isNumber(t) || !isNumber(pid) || typeof g !== 'string' || !isNumber(p)) {
      if (e === 's' || e === 'f' || e === 'c') out.malformed++
      continue
    }
    if ((e === 's' || e === 'f') && isNumber(o)) {
      out.deliveries.push({
        kind: e === 's' ? 'start' : 'finish',
        t,
        pid,
        worker: isNumber(w) ? w : -1,
        group: g,
        segment: isNumber(line.seg) ? line.seg : -1,
        partition: p,
        offset: o,
        attempt: isNumber(line.a) ? line.a : 1,
        deliveryCount: isNumber(line.dc) ? line.dc : 1,
      })
    } else if (e === 'c' && isNumber(o)) {
      out.commits.push({ t, pid, group: g, partition: p, offset: o })
    }
  }
  return out
}

/**
 * Rows of `ConsumerGroupCommand --describe` (Kafka's kafka-consumer-groups.sh): one per group and
 * partition, `CURRENT-OFFSET` "-" when nothing is committed. Lines that are not rows of the table
 * (notes such as "Consumer group 'g' has no active members.") are passed over.
 */
export function parseGroupDescribe(output: string, topic: string): GroupOffset[] {
  const rows: GroupOffset[] = []
  let columns: string[] | undefined
  for (const line of output.split('\n')) {
    const cells = line.trim().split(/\s+/)
    if (cells[0] === 'GROUP') {
      columns = cells
      continue
    }
    if (!columns || cells.length < 5) continue
    const at = (name: string) => cells[columns!.indexOf(name)]
    if (at('TOPIC') !== topic) continue
    const partition = Number(at('PARTITION'))
    const current = at('CURRENT-OFFSET')
    const logEnd = Number(at('LOG-END-OFFSET'))
    if (!Number.isInteger(partition) || !Number.isInteger(logEnd)) continue
    rows.push({
      group: cells[0]!,
      partition,
      committed: current === '-' || current === undefined ? null : Number(current),
      logEnd,
    })
  }
  return rows
}

/**
 * Records printed by Kafka's ConsoleConsumer with `print.partition`, `print.offset` and
 * `print.key` (tab separated: `Partition:3`, `Offset:17`, the key, the JSON value). Returns the
 * records and the lines that could not be read.
 */
export function parseConsoleRecords(output: string): { records: TopicRecord[]; unreadable: string[] } {
  const records: TopicRecord[] = []
  const unreadable: string[] = []
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue
    const [partitionCell, offsetCell, key, ...value] = line.split('\t')
    const partition = Number(partitionCell?.replace(/^Partition:/, ''))
    const offset = Number(offsetCell?.replace(/^Offset:/, ''))
    try {
      const payload = JSON.parse(value.join('\t')) as { key?: unknown; seq?: unknown; id?: unknown }
      if (
        !Number.isInteger(partition) ||
        !Number.isInteger(offset) ||
        key === undefined ||
        typeof payload.id !== 'string' ||
        !isNumber(payload.seq)
      )
        throw new Error('not a record')
      records.push({ partition, offset, key, id: payload.id, seq: payload.seq })
    } catch {
      unreadable.push(line)
    }
  }
  return { records, unreadable }
}

const SHARE_EVENTS: Record<string, ShareEvent['kind']> = {
  lost: 'lost',
  rel: 'released',
  rej: 'rejected',
  err: 'error',
}

/** The share events (lost locks, releases, rejections, errors) of worker log text (examples/chaos/share-app.ts). */
export function parseShareEvents(text: string): ShareEvent[] {
  const out: ShareEvent[] = []
  for (const raw of text.split('\n')) {
    if (!raw.startsWith('{"e":"lost"') && !raw.startsWith('{"e":"re') && !raw.startsWith('{"e":"err"'))
      continue
    let line: LogLine & { r?: unknown; type?: unknown; m?: unknown }
    try {
      line = JSON.parse(raw) as typeof line
    } catch {
      continue // a line a SIGKILL cut: counted by parseWorkerLog
    }
    const kind = typeof line.e === 'string' ? SHARE_EVENTS[line.e] : undefined
    if (!kind || !isNumber(line.t) || !isNumber(line.pid)) continue
    out.push({
      kind,
      t: line.t,
      pid: line.pid,
      worker: isNumber(line.w) ? line.w : -1,
      ...(isNumber(line.p) ? { partition: line.p } : {}),
      ...(isNumber(line.o) ? { offset: line.o } : {}),
      ...(isNumber(line.dc) ? { deliveryCount: line.dc } : {}),
      detail:
        kind === 'error'
          ? `${String(line.type)}: ${String(line.m)}`
          : kind === 'lost'
            ? String(line.r ?? '')
            : '',
    })
  }
  return out
}

/**
 * Rows of `ShareGroupCommand --describe --offsets` (Kafka's kafka-share-groups.sh): one per
 * partition of `topic`, with the share-partition start offset and lag ("-" when unknown).
 */
export function parseShareGroupOffsets(output: string, topic: string): ShareOffset[] {
  const rows: ShareOffset[] = []
  let columns: string[] | undefined
  for (const line of output.split('\n')) {
    const cells = line.trim().split(/\s+/)
    if (cells[0] === 'GROUP') {
      columns = cells
      continue
    }
    if (!columns || cells.length < columns.length) continue
    const at = (name: string) => cells[columns!.indexOf(name)]
    if (at('TOPIC') !== topic) continue
    const partition = Number(at('PARTITION'))
    if (!Number.isInteger(partition)) continue
    const number = (cell: string | undefined) =>
      cell === undefined || cell === '-' || !Number.isInteger(Number(cell)) ? null : Number(cell)
    rows.push({ partition, startOffset: number(at('START-OFFSET')), lag: number(at('LAG')) })
  }
  return rows
}
