// Parallel segments (3 segments over `multilane run --processes 3`, continuous style, key
// ordering, capacity 100) on a three-broker cluster of this file's own (topic replication factor
// 3, min.insync.replicas 2) lose nothing while workers are SIGKILLed at random and a partition
// leader is SIGKILLed and brought back: every record on the topic is handled at least once, each
// killed worker's duplicates stay within what it had in flight plus what it finished since its
// last commit (none below that commit), each key's records are first handled in log order, and
// Kafka's own ConsumerGroupCommand shows every segment group committed at the log end once
// drained. The short form of `npm run chaos` (chaos/run.ts: 60 s of faults, a broker stopped and
// restarted too).
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { test } from 'node:test'
import { detail } from '../../../chaos/report.ts'
import { LONG_FORM, runScenarioA } from '../../../chaos/scenario-a.ts'

// A three-broker cluster starts in minutes on a loaded 2-core machine; every wait in the scenario
// is on a condition, with its own deadline.
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
    log: (m) => lines.push(m),
  })
  const c = result.check
  const report = `${lines.join('\n')}\n${detail(result)}`
  assert.ok(result.workerKills >= 1, `no worker was killed:\n${report}`)
  assert.equal(result.brokerFaults.length, 1, report)
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
  // Kept when an assertion failed (the report names it), removed when everything held.
  rmSync(result.workDir, { recursive: true, force: true })
})
