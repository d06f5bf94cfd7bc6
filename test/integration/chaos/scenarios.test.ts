// The short forms of `npm run chaos` (chaos/run.ts), on one three-broker cluster of this file's
// own (topic replication factor 3, min.insync.replicas 2), scenario A, B, then C:
//
// A — parallel segments (3 segments over `multilane run --processes 3`, continuous style, key
// ordering, capacity 100) lose nothing while workers are SIGKILLed at random and a partition
// leader is SIGKILLed and brought back: every record on the topic is handled at least once, each
// killed worker's duplicates stay within what it had in flight plus what it finished since its
// last commit (none below that commit), each key's records are first handled in log order, and
// Kafka's own ConsumerGroupCommand shows every segment group committed at the log end once
// drained.
//
// B — a share group of 4 members (`multilane run --processes 4`, continuous style) loses nothing
// while workers are SIGKILLed at random and one member is frozen (SIGSTOP) past its acquisition
// lock and resumed: every record is handled at least once, every duplicate is explained by a
// kill (within its bound: in flight plus finished within the acknowledgement window), the
// freeze or a reported lost lock, no record runs in two members at once unless the first one's
// lock was gone, the frozen member's late acknowledgements are reported as lost locks (it does
// not crash), nothing is archived without a handler's acceptance, and Kafka's own
// ShareGroupCommand shows every share-partition start offset at the log end with lag 0.
//
// C — A's parallel segments in the blocking style on the classic group protocol, under worker
// SIGKILLs: A's invariants hold, and every worker process joined with the classic protocol.
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { ChaosCluster } from '../../../chaos/cluster.ts'
import { detail } from '../../../chaos/report.ts'
import { LONG_FORM, runScenarioA, type ScenarioResult } from '../../../chaos/scenario-a.ts'
import { runScenarioB, SHARE_LONG_FORM } from '../../../chaos/scenario-b.ts'
import { shareDetail } from '../../../chaos/share-report.ts'

// A three-broker cluster starts in minutes on a loaded 2-core machine; every wait in the
// scenarios is on a condition, with its own deadline. One cluster for both scenarios: each uses
// topics and groups of its own, and every broker it stops it starts again before it returns.
/**
 * Scenario A's invariants (C's too): the run's log and detail are the message of any failure.
 * The work directory is kept when an assertion failed (the report names it), removed otherwise.
 */
function assertConsumerGroupInvariants(result: ScenarioResult, lines: string[], brokerFaults: number): void {
  const c = result.check
  const report = `${lines.join('\n')}\n${detail(result)}`
  assert.ok(result.workerKills >= 1, `no worker was killed:\n${report}`)
  assert.equal(result.brokerFaults.length, brokerFaults, report)
  assert.ok(c.records > 0, report)
  assert.deepEqual(c.acknowledgedMissing, [], report)
  assert.deepEqual(c.lost, [], report)
  assert.deepEqual(
    c.processes.filter((p) => !p.withinBound),
    [],
    `duplicates beyond a kill's bound:\n${report}`,
  )
  assert.deepEqual(c.orderViolations, [], report)
  assert.deepEqual(c.multiGroup, [], report)
  assert.deepEqual(c.notAtLogEnd, [], report)
  assert.equal(result.swarmExitCode, 0, report)
  assert.deepEqual(c.problems, [], report)
  rmSync(result.workDir, { recursive: true, force: true })
}

let cluster: ChaosCluster | undefined
const clusterLog: string[] = []

before(
  async () => {
    cluster = await ChaosCluster.start(3, (m) => clusterLog.push(m))
  },
  { timeout: 20 * 60_000 },
)

after(async () => {
  await cluster?.stop()
})

test('scenario A, short form: worker SIGKILLs and a leader SIGKILL lose no record, duplicates within each kill bound, per-key order kept, every segment committed at the log end', {
  timeout: 40 * 60_000,
}, async () => {
  const lines: string[] = []
  const result = await runScenarioA({
    ...LONG_FORM,
    faultSeconds: 15,
    killEveryMs: [3_000, 5_000],
    killLeader: true,
    stopBroker: false,
    rate: 100,
    keys: 100,
    seed: Date.now() % 1_000_000,
    cluster: cluster!,
    log: (m) => lines.push(m),
  })
  assertConsumerGroupInvariants(result, lines, 1)
})

test('scenario B, short form: share members SIGKILLed and one frozen past its lock lose no record, every duplicate and overlap explained, late acknowledgements reported, nothing archived unhandled, lag 0 on every partition', {
  timeout: 20 * 60_000,
}, async () => {
  const lines: string[] = []
  const result = await runScenarioB({
    ...SHARE_LONG_FORM,
    faultSeconds: 15,
    killEveryMs: [3_000, 5_000],
    // The broker faults are scenario A's short form's (and both long forms'): B's short form
    // keeps to what is particular to share groups, within its time budget.
    killLeader: false,
    stopBroker: false,
    lockDurationMs: 8_000,
    freezeBeyondLockMs: 3_000,
    rate: 100,
    keys: 100,
    seed: Date.now() % 1_000_000,
    cluster: cluster!,
    log: (m) => lines.push(m),
  })
  const c = result.check
  const report = `${lines.join('\n')}\n${shareDetail(result)}`
  assert.ok(result.workerKills >= 1, `no worker was killed:\n${report}`)
  assert.equal(result.freezes.length, 1, `no member was frozen:\n${report}`)
  assert.ok(c.records > 0, report)
  assert.deepEqual(c.acknowledgedMissing, [], report)
  assert.deepEqual(c.lost, [], report)
  assert.equal(c.duplicateCauses.unexplained, 0, report)
  assert.deepEqual(
    c.processes.filter((p) => !p.withinBound),
    [],
    `duplicates beyond a kill's bound:\n${report}`,
  )
  assert.deepEqual(
    c.overlaps.filter((o) => !o.explainedBy),
    [],
    report,
  )
  assert.deepEqual(c.silentRedeliveries, [], report)
  assert.deepEqual(c.archivedUnhandled, [], report)
  assert.equal(c.rejected, 0, report)
  assert.deepEqual(c.notAtLogEnd, [], report)
  assert.equal(result.swarmExitCode, 0, report)
  assert.deepEqual(c.problems, [], report)
  rmSync(result.workDir, { recursive: true, force: true })
})

test('scenario C, short form: the blocking style on the classic protocol under worker SIGKILLs loses no record, duplicates within each kill bound, per-key order kept, every segment committed at the log end', {
  timeout: 20 * 60_000,
}, async () => {
  const lines: string[] = []
  const result = await runScenarioA({
    ...LONG_FORM,
    variant: 'c',
    faultSeconds: 15,
    killEveryMs: [3_000, 5_000],
    // The broker faults are scenario A's short form's (and the long forms'): C's short form keeps
    // to what differs, the style and the protocol.
    killLeader: false,
    stopBroker: false,
    rate: 100,
    keys: 100,
    seed: Date.now() % 1_000_000,
    cluster: cluster!,
    log: (m) => lines.push(m),
  })
  // The problems include a worker that joined with another protocol than classic.
  assertConsumerGroupInvariants(result, lines, 0)
})
