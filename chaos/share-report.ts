// Scenario B's summary: the RELIABILITY.md table (Markdown) and the per-kill and per-freeze detail.
import { brokerFaultNames, largestKill, n } from './report.ts'
import type { ShareScenarioResult } from './scenario-b.ts'

/** The one-line-per-run table of RELIABILITY.md, scenario B. */
export function shareReliabilityTable(results: readonly ShareScenarioResult[]): string {
  const lines = [
    '| run | faults | worker kills | broker faults | freeze (lock) | records | lost | duplicates (kill / freeze / lost lock / broker) | bound (Σ per kill) | largest kill (dup / bound) | overlaps (all explained) | archived unhandled | lag 0 (ShareGroupCommand) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  results.forEach((r, i) => {
    const c = r.check
    const largest = largestKill(c.processes)
    const brokerFaults = brokerFaultNames(r.brokerFaults)
    const freeze = r.freezes.map((f) => `${((f.to - f.from) / 1000).toFixed(1)} s`).join(', ') || 'none'
    const d = c.duplicateCauses
    const unexplained = c.overlaps.filter((o) => !o.explainedBy).length
    lines.push(
      `| ${i + 1} (seed ${r.seed}) | ${(r.faultMs / 1000).toFixed(0)} s | ${r.workerKills} | ${brokerFaults} | ${freeze} (${r.lockDurationMs / 1000} s) | ${n(c.records)} | ${c.lost.length} | ${n(c.duplicates)} (${d.kill} / ${d.freeze} / ${d.lockLost} / ${d.brokerFault}${d.unexplained ? `, ${d.unexplained} unexplained` : ''}) | ${n(c.killBound)} | ${largest ? `${largest.duplicates} / ${largest.bound}` : '-'} | ${c.overlaps.length} (${unexplained === 0 ? 'yes' : `${unexplained} not`}) | ${c.archivedUnhandled.length} | ${c.notAtLogEnd.length === 0 ? `yes (start offsets ${c.startOffsetsBehind} behind the log ends)` : `no (${c.notAtLogEnd.length})`} |`,
    )
  })
  return lines.join('\n')
}

/** Everything the run measured, for the terminal. */
export function shareDetail(r: ShareScenarioResult): string {
  const c = r.check
  const d = c.duplicateCauses
  const lines = [
    `topic ${r.topic}, share group ${r.group}, lock ${r.lockDurationMs} ms, seed ${r.seed}`,
    `records: ${n(c.records)} on the topic (${n(r.producedRecords)} produced, ${n(c.acknowledged)} acknowledged, ` +
      `${c.acknowledgedMissing.length} acknowledged but missing, ${c.producerDuplicates} written twice by retried sends, ${r.failedSends} failed sends)`,
    `handled: ${n(c.handled)}; lost: ${c.lost.length}; handler starts: ${n(c.deliveries)}; duplicates: ${n(c.duplicates)} ` +
      `(kills ${d.kill}, freeze ${d.freeze}, lost locks ${d.lockLost}, broker faults ${d.brokerFault}, unexplained ${d.unexplained}); ` +
      `highest delivery count ${c.maxDeliveryCount}`,
    `overlaps (two members running one record at once): ${c.overlaps.length}, explained by freeze ${c.overlaps.filter((o) => o.explainedBy === 'freeze').length}, ` +
      `lost lock ${c.overlaps.filter((o) => o.explainedBy === 'lockLost').length}, unexplained ${c.overlaps.filter((o) => !o.explainedBy).length}`,
    `silent redeliveries: ${c.silentRedeliveries.length}; rejected: ${c.rejected}; archived with no handler failed: ${c.archivedUnhandled.length}; ` +
      `accepts unconfirmed (connection closed first; not delivered again): ${c.unconfirmed}; phantom deliveries: ${c.phantom}`,
    ...c.freezeEffects.map(
      (f) =>
        `freeze of pid ${f.pid}: ${f.movedToOthers} records it had started went to others; ${f.lostAfterResume} lost locks reported after SIGCONT`,
    ),
    `ShareGroupCommand: ${c.notAtLogEnd.length === 0 ? `lag 0 on every partition; start offsets ${c.startOffsetsBehind} records behind the log ends in all` : `${c.notAtLogEnd.length} partitions with lag or without a start offset`}`,
    `multilane run exit code after SIGTERM: ${r.swarmExitCode}; malformed log lines: ${r.malformedLogLines}; unreadable topic lines: ${r.unreadableTopicLines}`,
    'killed and frozen processes:',
    '  PID      WORKER  CAUSE   IN FLIGHT  FINISHED IN ACK WINDOW  BOUND  DUPLICATES  WITHIN',
    ...c.processes.map(
      (p) =>
        `  ${String(p.pid).padEnd(8)} ${String(p.worker).padEnd(7)} ${p.cause.padEnd(7)} ${String(p.inFlight).padEnd(10)} ` +
        `${String(p.finishedUnacknowledged).padEnd(23)} ${String(p.bound).padEnd(6)} ${String(p.duplicates).padEnd(11)} ${p.withinBound ? 'yes' : 'NO'}`,
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
