// The chaos harness's verdict, computed from what it recorded (pure: no I/O, unit-tested with
// hand-made logs). Inputs: the records on the topic (read back with Kafka's own console
// consumer), what the producer got acknowledged, every handler start and finish the workers
// logged, every commit they logged, how each worker process ended, and the committed offsets
// and log ends Kafka's ConsumerGroupCommand printed.
//
// A record is a topic-partition-offset: the producer may write one payload twice (a send retried
// after a broker fault), and those are two records to handle. "Handled" means a handler finished.

/** A record as read back from the topic. */
export interface TopicRecord {
  partition: number
  offset: number
  key: string
  /** The producer's id of the payload. */
  id: string
  /** The payload's per-key sequence number. */
  seq: number
}

/** One handler start (`start`) or finish (`finish`) a worker logged. */
export interface Delivery {
  kind: 'start' | 'finish'
  /** Epoch milliseconds, sub-millisecond precision. */
  t: number
  pid: number
  worker: number
  /** The Kafka group (segment group) that handled it. */
  group: string
  segment: number
  partition: number
  offset: number
  attempt: number
  deliveryCount: number
}

/** An offset commit a worker logged once the broker accepted it (`offsets.committed`). */
export interface Commit {
  t: number
  pid: number
  group: string
  partition: number
  /** The committed offset: the next record to read. */
  offset: number
}

/** A worker process that ended while the swarm ran: SIGKILLed by the harness, or exited on its own. */
export interface ProcessEnd {
  pid: number
  worker: number
  t: number
  cause: 'kill' | 'exit'
}

/** A row of Kafka's `ConsumerGroupCommand --describe`. */
export interface GroupOffset {
  group: string
  partition: number
  /** null when the tool prints "-" (nothing committed). */
  committed: number | null
  logEnd: number
}

export interface CheckInput {
  /** Partitions of the topic. */
  partitions: number
  /** The segment groups that must all be committed at the log end. */
  groups: readonly string[]
  /** Ids the producer got acknowledged (acks=all). */
  acknowledged: readonly string[]
  topicRecords: readonly TopicRecord[]
  deliveries: readonly Delivery[]
  commits: readonly Commit[]
  ends: readonly ProcessEnd[]
  offsets: readonly GroupOffset[]
}

/**
 * The duplicates one process left behind: the records it had started that ran again after it.
 * `bound` = `inFlight` (started, never finished by it) + `finishedSinceCommit` (finished at or
 * above its last commit of that group-partition): what a restart from the committed offsets may
 * run again.
 */
export interface ProcessDuplicates {
  pid: number
  worker: number
  /** How the process ended; `none` when it did not (a member that lost partitions and lived on). */
  cause: 'kill' | 'exit' | 'none'
  t: number | undefined
  inFlight: number
  finishedSinceCommit: number
  bound: number
  duplicates: number
  /** Duplicates of records below its last commit: committed, and still run again. */
  outsideBound: number
  /** In-flight records below its last commit: a commit passed an unfinished record. */
  committedPastUnfinished: number
  withinBound: boolean
}

export interface OrderViolation {
  key: string
  partition: number
  /** The earlier record (by offset) whose first start came later. */
  earlier: { offset: number; seq: number; firstStart: number }
  later: { offset: number; seq: number; firstStart: number }
}

export interface CheckResult {
  /** Records on the topic. */
  records: number
  acknowledged: number
  /** Acknowledged ids not on the topic (the cluster lost an acknowledged write). */
  acknowledgedMissing: string[]
  /** Payloads written more than once (producer retries): extra records, each handled too. */
  producerDuplicates: number
  handled: number
  /** Records on the topic with no finished handler. */
  lost: Array<{ partition: number; offset: number; id: string }>
  /** Handler starts. */
  deliveries: number
  /** Handler starts beyond each record's first. */
  duplicates: number
  /** Per process that left duplicates or was killed. */
  processes: ProcessDuplicates[]
  /** Sum of the bounds of the killed processes. */
  killBound: number
  /** Duplicates attributed to the killed processes. */
  killDuplicates: number
  orderViolations: OrderViolation[]
  /** Keys whose payload sequence numbers are not increasing along the log (the producer's order). */
  producerOrderViolations: number
  /** Records handled by more than one group (segment routing must give each record one segment). */
  multiGroup: Array<{ partition: number; offset: number; groups: string[] }>
  /** Deliveries of offsets that are not on the topic. */
  phantom: number
  /** Group-partitions not committed at the log end (or missing from the tool's output). */
  notAtLogEnd: Array<{ group: string; partition: number; committed: number | null; logEnd: number | null }>
  problems: string[]
  ok: boolean
}

const recordKey = (partition: number, offset: number) => `${partition}:${offset}`
const groupPartition = (group: string, partition: number) => `${group}#${partition}`

/** The last commit before `before` of each group-partition, from one process's commits (in time order). */
function lastCommits(commits: readonly Commit[], before: number): Map<string, number> {
  const last = new Map<string, number>()
  for (const c of commits) if (c.t < before) last.set(groupPartition(c.group, c.partition), c.offset)
  return last
}

/**
 * The topic side, shared by both scenarios: the records by partition and offset, the
 * acknowledged ids that are not on the topic (the cluster lost an acknowledged write), and the
 * payloads written more than once (retried sends).
 */
export function topicSide(
  topicRecords: readonly TopicRecord[],
  acknowledged: readonly string[],
): { onTopic: Map<string, TopicRecord>; acknowledgedMissing: string[]; producerDuplicates: number } {
  const onTopic = new Map<string, TopicRecord>()
  for (const r of topicRecords) onTopic.set(recordKey(r.partition, r.offset), r)
  const idsOnTopic = new Map<string, number>()
  for (const r of topicRecords) idsOnTopic.set(r.id, (idsOnTopic.get(r.id) ?? 0) + 1)
  const acknowledgedMissing = acknowledged.filter((id) => !idsOnTopic.has(id))
  let producerDuplicates = 0
  for (const n of idsOnTopic.values()) producerDuplicates += n - 1
  return { onTopic, acknowledgedMissing, producerDuplicates }
}

export function check(input: CheckInput): CheckResult {
  const problems: string[] = []
  const { onTopic, acknowledgedMissing, producerDuplicates } = topicSide(
    input.topicRecords,
    input.acknowledged,
  )

  // Deliveries per record, in time order.
  const sorted = [...input.deliveries].sort((a, b) => a.t - b.t)
  const starts = new Map<string, Delivery[]>()
  const finished = new Set<string>()
  const groupsOf = new Map<string, Set<string>>()
  let phantom = 0
  for (const d of sorted) {
    const k = recordKey(d.partition, d.offset)
    if (!onTopic.has(k)) {
      phantom++
      continue
    }
    if (d.kind === 'finish') finished.add(k)
    else {
      const list = starts.get(k)
      if (list) list.push(d)
      else starts.set(k, [d])
      const groups = groupsOf.get(k) ?? new Set<string>()
      groups.add(d.group)
      groupsOf.set(k, groups)
    }
  }
  const lost = input.topicRecords
    .filter((r) => !finished.has(recordKey(r.partition, r.offset)))
    .map((r) => ({ partition: r.partition, offset: r.offset, id: r.id }))
  const multiGroup = [...groupsOf]
    .filter(([, g]) => g.size > 1)
    .map(([k, g]) => {
      const [partition, offset] = k.split(':').map(Number) as [number, number]
      return { partition, offset, groups: [...g].sort() }
    })

  // Duplicates: each start after a record's first is charged to the process of the start before it.
  let duplicates = 0
  const repeats = new Map<number, Array<{ record: string; t: number; group: string; partition: number }>>()
  for (const [k, list] of starts) {
    for (let i = 1; i < list.length; i++) {
      duplicates++
      const previous = list[i - 1]!
      const charged = repeats.get(previous.pid) ?? []
      charged.push({ record: k, t: list[i]!.t, group: previous.group, partition: previous.partition })
      repeats.set(previous.pid, charged)
    }
  }

  // Per process: its bound (what a restart from its last commits may run again) and its duplicates.
  const byPid = new Map<number, { worker: number; starts: Delivery[]; finishes: Set<string> }>()
  for (const d of sorted) {
    const p = byPid.get(d.pid) ?? { worker: d.worker, starts: [], finishes: new Set<string>() }
    if (d.kind === 'start') p.starts.push(d)
    else p.finishes.add(recordKey(d.partition, d.offset))
    byPid.set(d.pid, p)
  }
  const commitsByPid = new Map<number, Commit[]>()
  for (const c of [...input.commits].sort((a, b) => a.t - b.t)) {
    const list = commitsByPid.get(c.pid) ?? []
    list.push(c)
    commitsByPid.set(c.pid, list)
  }
  const endOf = new Map(input.ends.map((e) => [e.pid, e]))
  const pids = new Set<number>([...input.ends.map((e) => e.pid), ...repeats.keys()])
  const processes: ProcessDuplicates[] = []
  for (const pid of [...pids].sort((a, b) => a - b)) {
    const end = endOf.get(pid)
    const charged = repeats.get(pid) ?? []
    // A process that lived on: judge it as of its first record that ran again elsewhere.
    const cutoff = end ? Number.POSITIVE_INFINITY : Math.min(...charged.map((c) => c.t))
    const commits = lastCommits(commitsByPid.get(pid) ?? [], cutoff)
    const mine = byPid.get(pid)
    const committedAt = (group: string, partition: number) =>
      commits.get(groupPartition(group, partition)) ?? Number.NEGATIVE_INFINITY
    let inFlight = 0
    let finishedSinceCommit = 0
    let committedPastUnfinished = 0
    const seen = new Set<string>()
    for (const d of mine?.starts ?? []) {
      if (d.t >= cutoff) continue
      const k = recordKey(d.partition, d.offset)
      if (seen.has(k)) continue
      seen.add(k)
      const above = d.offset >= committedAt(d.group, d.partition)
      if (!mine!.finishes.has(k)) {
        inFlight++
        if (!above && end) committedPastUnfinished++
      } else if (above) finishedSinceCommit++
    }
    const outsideBound = charged.filter(
      (c) => Number(c.record.split(':')[1]) < committedAt(c.group, c.partition),
    ).length
    const bound = inFlight + finishedSinceCommit
    const withinBound = charged.length <= bound && outsideBound === 0 && committedPastUnfinished === 0
    processes.push({
      pid,
      worker: end?.worker ?? mine?.worker ?? -1,
      cause: end?.cause ?? 'none',
      t: end?.t,
      inFlight,
      finishedSinceCommit,
      bound,
      duplicates: charged.length,
      outsideBound,
      committedPastUnfinished,
      withinBound,
    })
  }
  const kills = processes.filter((p) => p.cause === 'kill')

  // Per key: first starts in log order (the producer's sequence order).
  const byKey = new Map<string, TopicRecord[]>()
  for (const r of input.topicRecords) {
    const list = byKey.get(r.key) ?? []
    list.push(r)
    byKey.set(r.key, list)
  }
  const orderViolations: OrderViolation[] = []
  let producerOrderViolations = 0
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
    let previous: { r: TopicRecord; firstStart: number } | undefined
    let producerOrdered = true
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!
      if (i > 0 && r.seq < list[i - 1]!.seq) producerOrdered = false
      const first = starts.get(recordKey(r.partition, r.offset))?.[0]
      if (!first) continue // lost: reported above
      if (previous && first.t < previous.firstStart) {
        orderViolations.push({
          key,
          partition: r.partition,
          earlier: { offset: previous.r.offset, seq: previous.r.seq, firstStart: previous.firstStart },
          later: { offset: r.offset, seq: r.seq, firstStart: first.t },
        })
      }
      if (!previous || first.t >= previous.firstStart) previous = { r, firstStart: first.t }
    }
    if (!producerOrdered) producerOrderViolations++
  }

  // Committed offsets, as Kafka's own tool printed them: every group, every partition, at the log end.
  const notAtLogEnd: CheckResult['notAtLogEnd'] = []
  for (const group of input.groups) {
    for (let partition = 0; partition < input.partitions; partition++) {
      const row = input.offsets.find((o) => o.group === group && o.partition === partition)
      if (!row) notAtLogEnd.push({ group, partition, committed: null, logEnd: null })
      else if (row.committed !== row.logEnd) notAtLogEnd.push({ ...row })
    }
  }

  if (acknowledgedMissing.length > 0)
    problems.push(`${acknowledgedMissing.length} acknowledged records are not on the topic`)
  if (lost.length > 0) problems.push(`${lost.length} records lost (on the topic, never handled)`)
  for (const p of processes) {
    if (p.withinBound) continue
    const who = `${p.cause === 'kill' ? 'killed' : p.cause === 'exit' ? 'exited' : 'live'} worker ${p.worker} (pid ${p.pid})`
    problems.push(
      `${who}: ${p.duplicates} duplicates, bound ${p.bound} (${p.inFlight} in flight + ${p.finishedSinceCommit} finished since the last commit)` +
        (p.outsideBound ? `; ${p.outsideBound} of them below its last commit` : '') +
        (p.committedPastUnfinished
          ? `; a commit passed ${p.committedPastUnfinished} unfinished records`
          : ''),
    )
  }
  if (orderViolations.length > 0)
    problems.push(`${orderViolations.length} per-key order violations of first deliveries`)
  if (multiGroup.length > 0) problems.push(`${multiGroup.length} records handled by more than one group`)
  if (phantom > 0) problems.push(`${phantom} deliveries of offsets that are not on the topic`)
  for (const o of notAtLogEnd)
    problems.push(
      `${o.group} partition ${o.partition}: committed ${o.committed ?? '-'}, log end ${o.logEnd ?? 'not listed'}`,
    )

  return {
    records: input.topicRecords.length,
    acknowledged: input.acknowledged.length,
    acknowledgedMissing,
    producerDuplicates,
    handled: finished.size,
    lost,
    deliveries: [...starts.values()].reduce((n, l) => n + l.length, 0),
    duplicates,
    processes,
    killBound: kills.reduce((n, p) => n + p.bound, 0),
    killDuplicates: kills.reduce((n, p) => n + p.duplicates, 0),
    orderViolations,
    producerOrderViolations,
    multiGroup,
    phantom,
    notAtLogEnd,
    problems,
    ok: problems.length === 0,
  }
}
