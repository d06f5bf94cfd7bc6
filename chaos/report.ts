// The harness's summary: the RELIABILITY.md table (Markdown) and the per-process detail.
import type { ScenarioResult } from './scenario-a.ts'

/** A count with thousands separators. */
export const n = (value: number) => value.toLocaleString('en')

/** The killed process with the most duplicates (the table's "largest kill"). */
export function largestKill<P extends { cause: string; duplicates: number }>(
  processes: readonly P[],
): P | undefined {
  return processes
    .filter((p) => p.cause === 'kill')
    .reduce<P | undefined>((w, p) => (!w || p.duplicates > w.duplicates ? p : w), undefined)
}

/** The broker faults of a run, as the table names them. */
export const brokerFaultNames = (faults: ReadonlyArray<{ kind: string; node: number }>) =>
  faults.map((f) => `${f.kind} of node ${f.node}`).join(', ') || 'none'

/** The one-line-per-run table of RELIABILITY.md. */
export function reliabilityTable(results: readonly ScenarioResult[]): string {
  const lines = [
    '| run | faults | worker kills | broker faults | records | lost | duplicates | bound (Σ per kill) | largest kill (dup / bound) | order violations | committed at log end |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  results.forEach((r, i) => {
    const c = r.check
    const largest = largestKill(c.processes)
    const brokerFaults = brokerFaultNames(r.brokerFaults)
    lines.push(
      `| ${i + 1} (seed ${r.seed}) | ${(r.faultMs / 1000).toFixed(0)} s | ${r.workerKills} | ${brokerFaults} | ${n(c.records)} | ${c.lost.length} | ${n(c.duplicates)} | ${n(c.killBound)} | ${largest ? `${largest.duplicates} / ${largest.bound}` : '-'} | ${c.orderViolations.length} | ${c.notAtLogEnd.length === 0 ? 'yes (3 groups × all partitions)' : `no (${c.notAtLogEnd.length})`} |`,
    )
  })
  return lines.join('\n')
}

/** Everything the run measured, for the terminal. */
export function detail(r: ScenarioResult): string {
  const c = r.check
  const lines = [
    `topic ${r.topic}, group ${r.group} (segments ${r.group}-parallel-0..2), seed ${r.seed}`,
    `records: ${n(c.records)} on the topic (${n(r.producedRecords)} produced, ${n(c.acknowledged)} acknowledged, ` +
      `${c.acknowledgedMissing.length} acknowledged but missing, ${c.producerDuplicates} written twice by retried sends, ${r.failedSends} failed sends)`,
    `handled: ${n(c.handled)}; lost: ${c.lost.length}; handler starts: ${n(c.deliveries)}; duplicates: ${n(c.duplicates)} ` +
      `(${n(c.killDuplicates)} after kills, bound ${n(c.killBound)})`,
    `order: ${c.orderViolations.length} per-key violations of first deliveries; ${c.multiGroup.length} records handled by two groups; ${c.phantom} phantom deliveries`,
    `committed (ConsumerGroupCommand): ${c.notAtLogEnd.length === 0 ? 'every segment group at the log end on every partition' : `${c.notAtLogEnd.length} group-partitions not at the log end`}`,
    `multilane run exit code after SIGTERM: ${r.swarmExitCode}; malformed log lines: ${r.malformedLogLines}; unreadable topic lines: ${r.unreadableTopicLines}`,
    'processes that ended or left duplicates:',
    '  PID      WORKER  CAUSE  IN FLIGHT  FINISHED SINCE COMMIT  BOUND  DUPLICATES  WITHIN',
    ...c.processes.map(
      (p) =>
        `  ${String(p.pid).padEnd(8)} ${String(p.worker).padEnd(7)} ${p.cause.padEnd(6)} ${String(p.inFlight).padEnd(10)} ` +
        `${String(p.finishedSinceCommit).padEnd(22)} ${String(p.bound).padEnd(6)} ${String(p.duplicates).padEnd(11)} ${p.withinBound ? 'yes' : 'NO'}`,
    ),
    ...r.brokerFaults.map(
      (f) =>
        `broker fault: ${f.kind} of node ${f.node}${f.partition === undefined ? '' : ` (leader of partition ${f.partition})`}, down ${(f.downMs / 1000).toFixed(1)} s`,
    ),
    `logs: ${r.workDir}`,
    c.ok ? 'OK: every invariant holds' : `FAILED:\n${c.problems.map((p) => `  - ${p}`).join('\n')}`,
  ]
  return lines.join('\n')
}
