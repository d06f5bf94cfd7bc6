// Scenario B's verdict (share groups), computed from what the harness recorded (pure: no I/O,
// unit-tested with hand-made logs). Inputs: the records on the topic (Kafka's ConsoleConsumer),
// what the producer got acknowledged, every handler start and finish and every share event the
// members logged, which processes the harness SIGKILLed or froze (SIGSTOP) and when, the broker
// faults, and the share-partition start offsets and lag Kafka's ShareGroupCommand printed.
//
// A share group has no committed offsets: the broker hands records out under acquisition locks,
// and a record comes back (delivery count + 1) when its holder's lock is gone — the holder was
// killed (its connections closed), frozen past the lock, or lost the lock another way (a leader
// moved). So a record started twice is a duplicate only a lost lock explains, and two members
// running one record at once is an overlap only the first one's lost lock explains.
import { type Delivery, topicSide } from './checker.ts'
import type {
  DuplicateCause,
  Overlap,
  ShareCheckInput,
  ShareCheckResult,
  ShareProcessDuplicates,
} from './share-check-types.ts'

export * from './share-check-types.ts'

const recordKey = (partition: number, offset: number) => `${partition}:${offset}`
const deliveryKey = (pid: number, partition: number, offset: number, dc: number) =>
  `${pid}/${partition}:${offset}/${dc}`

export function checkShare(input: ShareCheckInput): ShareCheckResult {
  const problems: string[] = []
  const { onTopic, acknowledgedMissing, producerDuplicates } = topicSide(
    input.topicRecords,
    input.acknowledged,
  )

  // Deliveries: starts per record in time order; finishes per delivery (pid, record, count).
  const sorted = [...input.deliveries].sort((a, b) => a.t - b.t)
  const starts = new Map<string, Delivery[]>()
  const finishAt = new Map<string, number>()
  let phantom = 0
  let maxDeliveryCount = 0
  for (const d of sorted) {
    const k = recordKey(d.partition, d.offset)
    if (!onTopic.has(k)) {
      phantom++
      continue
    }
    maxDeliveryCount = Math.max(maxDeliveryCount, d.deliveryCount)
    if (d.kind === 'finish') {
      const dk = deliveryKey(d.pid, d.partition, d.offset, d.deliveryCount)
      if (!finishAt.has(dk)) finishAt.set(dk, d.t)
    } else {
      const list = starts.get(k)
      if (list) list.push(d)
      else starts.set(k, [d])
    }
  }
  const lostLocks = new Set<string>()
  let rejected = 0
  for (const e of input.events) {
    if (e.partition === undefined || e.offset === undefined) continue
    if (e.kind === 'lost') lostLocks.add(deliveryKey(e.pid, e.partition, e.offset, e.deliveryCount ?? -1))
    if (e.kind === 'rejected') rejected++
    // An acknowledgement that failed for one record is as clean a failure as a lost lock.
    if (e.kind === 'error' && e.detail.startsWith('share.acknowledge.error'))
      for (const d of starts.get(recordKey(e.partition, e.offset)) ?? [])
        if (d.pid === e.pid) lostLocks.add(deliveryKey(d.pid, d.partition, d.offset, d.deliveryCount))
  }
  const lockLost = (d: Delivery) => lostLocks.has(deliveryKey(d.pid, d.partition, d.offset, d.deliveryCount))
  const finishOf = (d: Delivery) => finishAt.get(deliveryKey(d.pid, d.partition, d.offset, d.deliveryCount))

  const lost = input.topicRecords
    .filter(
      (r) => !(starts.get(recordKey(r.partition, r.offset)) ?? []).some((d) => finishOf(d) !== undefined),
    )
    .map((r) => ({ partition: r.partition, offset: r.offset, id: r.id }))
  const handled = input.topicRecords.length - lost.length
  const rejectedRecords = new Set(
    input.events
      .filter((e) => e.kind === 'rejected')
      .map((e) => recordKey(e.partition ?? -1, e.offset ?? -1)),
  )
  const archivedUnhandled: ShareCheckResult['archivedUnhandled'] = []
  let unconfirmed = 0
  for (const r of input.topicRecords) {
    const list = starts.get(recordKey(r.partition, r.offset)) ?? []
    const finished = list.filter((d) => finishOf(d) !== undefined)
    if (finished.length === 0) continue // lost: reported above
    const clean = finished.some((d) => !lockLost(d))
    const reachedLimit = list.some((d) => d.deliveryCount >= input.deliveryCountLimit)
    if (rejectedRecords.has(recordKey(r.partition, r.offset)) || (!clean && reachedLimit))
      archivedUnhandled.push({ partition: r.partition, offset: r.offset })
    else if (!clean) unconfirmed++
  }

  const killOf = new Map(input.ends.map((e) => [e.pid, e]))
  const frozenDuring = (pid: number, from: number, to: number) =>
    input.freezes.find((f) => f.pid === pid && f.from <= to && f.to >= from)
  // A broker fault moves leaders for a while after it: its down time plus 30 s to settle.
  const brokerFaultDuring = (from: number, to: number) =>
    input.brokerFaults.some((b) => b.t <= to && b.t + b.downMs + 30_000 >= from)
  const killedBy = (pid: number, t: number) => {
    const end = killOf.get(pid)
    return end !== undefined && end.t <= t ? end : undefined
  }

  // Duplicates: each start after a record's first, charged to the holder of the start before it.
  const duplicateCauses: Record<DuplicateCause, number> = {
    kill: 0,
    freeze: 0,
    lockLost: 0,
    brokerFault: 0,
    unexplained: 0,
  }
  const chargedTo = new Map<string, number>() // `${cause}/${pid}` → duplicates
  const overlaps: Overlap[] = []
  const silentRedeliveries: ShareCheckResult['silentRedeliveries'] = []
  let duplicates = 0
  for (const list of starts.values()) {
    for (let i = 1; i < list.length; i++) {
      duplicates++
      const previous = list[i - 1]!
      const current = list[i]!
      let cause: DuplicateCause
      if (killedBy(previous.pid, current.t)) cause = 'kill'
      else if (frozenDuring(previous.pid, previous.t, current.t)) cause = 'freeze'
      else if (lockLost(previous)) cause = 'lockLost'
      else if (brokerFaultDuring(previous.t, current.t)) cause = 'brokerFault'
      else cause = 'unexplained'
      duplicateCauses[cause]++
      const charge = `${cause}/${previous.pid}`
      chargedTo.set(charge, (chargedTo.get(charge) ?? 0) + 1)
    }
    // Overlaps: every pair of members' deliveries running at once, earlier one first.
    for (let i = 0; i < list.length; i++) {
      const first = list[i]!
      const finish = finishOf(first) ?? null
      for (let j = i + 1; j < list.length; j++) {
        const second = list[j]!
        if (second.pid === first.pid) continue
        if (finish !== null && finish <= second.t) continue
        const killed = killedBy(first.pid, second.t)
        // A killed process's unfinished delivery never ends: it overlaps nothing after the kill.
        if (finish === null && killed) continue
        const explainedBy = frozenDuring(first.pid, first.t, second.t)
          ? ('freeze' as const)
          : lockLost(first)
            ? ('lockLost' as const)
            : undefined
        overlaps.push({
          partition: first.partition,
          offset: first.offset,
          first: { pid: first.pid, start: first.t, finish, deliveryCount: first.deliveryCount },
          second: { pid: second.pid, start: second.t, deliveryCount: second.deliveryCount },
          ...(explainedBy ? { explainedBy } : {}),
        })
      }
    }
    // A live member that finished a delivery another member then got again must have been told
    // its acknowledgement did not count (lock lost, or the acknowledgement failed).
    for (let i = 0; i < list.length - 1; i++) {
      const d = list[i]!
      if (finishOf(d) === undefined || lockLost(d)) continue
      const later = list.slice(i + 1).find((x) => x.pid !== d.pid)
      if (!later || killedBy(d.pid, later.t)) continue
      silentRedeliveries.push({
        pid: d.pid,
        partition: d.partition,
        offset: d.offset,
        deliveryCount: d.deliveryCount,
      })
    }
  }

  // Per kill and per freeze: the bound and the duplicates charged to it.
  const boundAt = (pid: number, t: number) => {
    let inFlight = 0
    let finishedUnacknowledged = 0
    const seen = new Set<string>()
    for (const list of starts.values())
      for (const d of list) {
        if (d.pid !== pid || d.t > t) continue
        const dk = deliveryKey(d.pid, d.partition, d.offset, d.deliveryCount)
        if (seen.has(dk)) continue
        seen.add(dk)
        const f = finishOf(d)
        if (f === undefined || f > t) inFlight++
        // While a broker is down, an accept to a partition it led waits (queued, not failed) for
        // the new leader: a finish then counts until the fault is over.
        else if (f >= t - input.ackWindowMs || brokerFaultDuring(f, t)) finishedUnacknowledged++
      }
    return { inFlight, finishedUnacknowledged }
  }
  const processes: ShareProcessDuplicates[] = []
  for (const end of [...input.ends].sort((a, b) => a.t - b.t)) {
    const b = boundAt(end.pid, end.t)
    const dup = chargedTo.get(`kill/${end.pid}`) ?? 0
    const bound = b.inFlight + b.finishedUnacknowledged
    processes.push({
      pid: end.pid,
      worker: end.worker,
      cause: end.cause,
      t: end.t,
      ...b,
      bound,
      duplicates: dup,
      withinBound: dup <= bound,
    })
  }
  const freezeEffects: ShareCheckResult['freezeEffects'] = []
  for (const f of input.freezes) {
    const b = boundAt(f.pid, f.from)
    const dup = chargedTo.get(`freeze/${f.pid}`) ?? 0
    const bound = b.inFlight + b.finishedUnacknowledged
    processes.push({
      pid: f.pid,
      worker: f.worker,
      cause: 'freeze',
      t: f.from,
      ...b,
      bound,
      duplicates: dup,
      withinBound: dup <= bound,
    })
    freezeEffects.push({
      pid: f.pid,
      lostAfterResume: input.events.filter((e) => e.pid === f.pid && e.kind === 'lost' && e.t >= f.to).length,
      movedToOthers: dup,
    })
  }
  const kills = processes.filter((p) => p.cause === 'kill')

  // Start offsets, as Kafka's own ShareGroupCommand printed them: at the log end, lag 0.
  // Kafka 4.4 keeps the persisted start offset at the start of the last batch it wrote state for
  // even once every record is acknowledged (measured: lag 0, start offset a batch behind, also
  // after every member left); the lag, the broker's count of records from the start offset on
  // that are not done, is 0 once everything is. So: lag 0, start offset within the log.
  const notAtLogEnd: ShareCheckResult['notAtLogEnd'] = []
  let startOffsetsBehind = 0
  for (let partition = 0; partition < input.partitions; partition++) {
    const row = input.startOffsets.find((o) => o.partition === partition)
    const logEnd = input.logEnds.get(partition) ?? null
    if (!row || row.startOffset === null || logEnd === null || row.startOffset > logEnd || row.lag !== 0)
      notAtLogEnd.push({ partition, startOffset: row?.startOffset ?? null, lag: row?.lag ?? null, logEnd })
    else startOffsetsBehind += logEnd - row.startOffset
  }

  if (acknowledgedMissing.length > 0)
    problems.push(`${acknowledgedMissing.length} acknowledged records are not on the topic`)
  if (lost.length > 0) problems.push(`${lost.length} records lost (on the topic, never handled)`)
  if (duplicateCauses.unexplained > 0)
    problems.push(
      `${duplicateCauses.unexplained} duplicates no kill, freeze, lost lock or broker fault explains`,
    )
  for (const p of processes)
    if (!p.withinBound)
      problems.push(
        `${p.cause === 'freeze' ? 'frozen' : p.cause === 'kill' ? 'killed' : 'exited'} worker ${p.worker} (pid ${p.pid}): ${p.duplicates} duplicates, bound ${p.bound} (${p.inFlight} in flight + ${p.finishedUnacknowledged} finished within ${input.ackWindowMs} ms before)`,
      )
  const unexplainedOverlaps = overlaps.filter((o) => !o.explainedBy)
  if (unexplainedOverlaps.length > 0)
    problems.push(
      `${unexplainedOverlaps.length} records run by two members at once with no kill, freeze or lost lock of the first`,
    )
  if (silentRedeliveries.length > 0)
    problems.push(
      `${silentRedeliveries.length} deliveries finished by a live member and given to another, with no lost lock or failed acknowledgement reported`,
    )
  if (rejected > 0) problems.push(`${rejected} records rejected (no handler failed)`)
  if (archivedUnhandled.length > 0)
    problems.push(
      `${archivedUnhandled.length} records archived (rejected, or at the delivery count limit) with no handler failed`,
    )
  if (phantom > 0) problems.push(`${phantom} deliveries of offsets that are not on the topic`)
  for (const o of notAtLogEnd)
    problems.push(
      `partition ${o.partition}: share-partition lag ${o.lag ?? '-'} (start offset ${o.startOffset ?? '-'}, log end ${o.logEnd ?? 'unknown'})`,
    )

  return {
    records: input.topicRecords.length,
    acknowledged: input.acknowledged.length,
    acknowledgedMissing,
    producerDuplicates,
    handled,
    lost,
    deliveries: [...starts.values()].reduce((n, l) => n + l.length, 0),
    duplicates,
    duplicateCauses,
    processes,
    killBound: kills.reduce((n, p) => n + p.bound, 0),
    killDuplicates: kills.reduce((n, p) => n + p.duplicates, 0),
    overlaps,
    silentRedeliveries,
    freezeEffects,
    rejected,
    archivedUnhandled,
    unconfirmed,
    startOffsetsBehind,
    maxDeliveryCount,
    phantom,
    notAtLogEnd,
    problems,
    ok: problems.length === 0,
  }
}
