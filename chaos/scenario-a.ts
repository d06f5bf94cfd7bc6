// Scenario A of the chaos harness (consumer groups): parallel segments count 3 over 3 worker
// processes (`multilane run --processes 3 examples/chaos/app.ts`), continuous style, key
// ordering, capacity 100, on a three-broker local cluster (topic: replication factor 3,
// min.insync.replicas 2). While a producer writes keyed records at a steady rate, workers are
// SIGKILLed every few seconds, a partition leader is SIGKILLed once and brought back, and
// another broker is stopped (controlled shutdown) and started again. Then the faults stop, the
// app drains and stops, and the checker judges what was logged against what Kafka holds.
import { resolve } from 'node:path'
import type { Admin } from '@platformatic/kafka'
import { ChaosRun, type RunOptions } from './chaos-run.ts'
import { type CheckResult, check } from './checker.ts'
import { type BrokerFault, type FaultOptions, runFaults, waitFor } from './fault-timeline.ts'
import { seededRandom } from './faults.ts'
import { describeGroups, readTopic } from './kafka-tools.ts'
import { parseWorkerLog } from './logs.ts'

export const APP_MODULE = resolve(import.meta.dirname, '../examples/chaos/app.ts')
const SEGMENTS = 3
const PROCESSES = 3

export type { BrokerFault } from './fault-timeline.ts'

export interface ScenarioOptions extends FaultOptions, RunOptions {
  /** `a`: continuous style on KIP-848; `c`: the blocking style on the classic protocol. */
  variant: 'a' | 'c'
}

/** What each variant runs: the processing style and the group protocol. */
export const VARIANTS = {
  a: { style: 'continuous', groupProtocol: 'consumer' },
  c: { style: 'blocking', groupProtocol: 'classic' },
} as const

export const LONG_FORM: Omit<ScenarioOptions, 'log' | 'seed'> = {
  variant: 'a',
  faultSeconds: 60,
  killEveryMs: [3_000, 6_000],
  killLeader: true,
  stopBroker: true,
  rate: 200,
  keys: 200,
  partitions: 6,
  drainTimeoutMs: 600_000,
}

export interface ScenarioResult {
  variant: ScenarioOptions['variant']
  check: CheckResult
  topic: string
  group: string
  seed: number
  workerKills: number
  brokerFaults: BrokerFault[]
  producedRecords: number
  failedSends: number
  /** Exit code of `multilane run` after the final SIGTERM (0: every worker drained). */
  swarmExitCode: number | null
  malformedLogLines: number
  unreadableTopicLines: number
  /** Where the logs are (kept). */
  workDir: string
  faultMs: number
  totalMs: number
}

/** Committed offset lag per segment group, summed over partitions (null: not committed yet). */
async function groupLags(
  admin: Admin,
  groups: readonly string[],
  topic: string,
  partitions: number,
): Promise<Array<number | null>> {
  const indexes = [...Array(partitions).keys()]
  const [ends] = await admin.listOffsets({
    topics: [{ name: topic, partitions: indexes.map((p) => ({ partitionIndex: p, timestamp: -1n })) }],
  })
  const committed = await admin.listConsumerGroupOffsets({
    groups: groups.map((groupId) => ({ groupId, topics: [{ name: topic, partitionIndexes: indexes }] })),
  })
  return groups.map((_, i) => {
    let lag = 0
    for (const end of ends!.partitions) {
      const c = committed[i]?.topics[0]?.partitions.find((x) => x.partitionIndex === end.partitionIndex)
      const offset = Number(c?.committedOffset ?? -1)
      if (offset < 0) return null
      lag += Number(end.offset) - offset
    }
    return lag
  })
}

export async function runScenarioA(options: ScenarioOptions): Promise<ScenarioResult> {
  const { log } = options
  const random = seededRandom(options.seed)
  const run = await ChaosRun.open(options.variant, options)
  const variant = VARIANTS[options.variant]
  const { cluster, admin, topic, group, logDir } = run
  const groups = [...Array(SEGMENTS).keys()].map((i) => `${group}-parallel-${i}`)
  try {
    await run.createTopic()
    const producer = run.startProducer()
    const swarm = run.startSwarm(APP_MODULE, PROCESSES, {
      CHAOS_STYLE: variant.style,
      CHAOS_GROUP_PROTOCOL: variant.groupProtocol,
    })
    log(`${variant.style} style, ${variant.groupProtocol} group protocol`)
    await swarm.waitForWorkers(PROCESSES, 300_000)
    // Faults start once every segment has joined and committed: a kill then has work to lose.
    await waitFor('every segment group committed', 600_000, async () =>
      (await groupLags(admin, groups, topic, options.partitions)).every((l) => l !== null),
    )
    log(`every segment group committed; faults for ${options.faultSeconds} s`)

    const { kills, brokerFaults, faultMs } = await runFaults({
      cluster,
      swarm,
      topic,
      partitions: options.partitions,
      logDir,
      options,
      random,
      log,
    })
    log(
      `faults over after ${(faultMs / 1000).toFixed(1)} s: ${kills.length} worker kills, ${brokerFaults.length} broker faults`,
    )

    await producer.stop()
    log(`producer stopped: ${producer.created} records, ${producer.acknowledged.length} acknowledged`)
    await swarm.waitForWorkers(PROCESSES, 300_000)
    await waitFor('every segment group committed at the log end', options.drainTimeoutMs, async () =>
      (await groupLags(admin, groups, topic, options.partitions)).every((l) => l === 0),
    )
    log('drained: every segment group committed at the log end; stopping the app (SIGTERM)')
    const swarmExitCode = await swarm.stop(120_000)
    log(`multilane run exited with ${swarmExitCode}`)

    // Kafka's own view: committed offsets and log ends, then every record.
    const bootstrap = cluster.bootstrap.join(',')
    const described = await describeGroups(cluster.env, bootstrap, groups, topic)
    const logEnds = new Map(described.rows.map((r) => [r.partition, r.logEnd]))
    const count = [...logEnds.values()].reduce((a, b) => a + b, 0)
    log(`ConsumerGroupCommand: ${described.rows.length} rows; reading ${count} records with ConsoleConsumer`)
    const onTopic = await readTopic(cluster.env, bootstrap, topic, count)

    const parsed = run.workerLogs().map(parseWorkerLog)
    const result = check({
      partitions: options.partitions,
      groups,
      acknowledged: producer.acknowledged,
      topicRecords: onTopic.records,
      deliveries: parsed.flatMap((p) => p.deliveries),
      commits: parsed.flatMap((p) => p.commits),
      ends: swarm.ends,
      offsets: described.rows,
    })
    // Every worker process (each restart too) must have spoken the protocol the variant asks for.
    const protocols = parsed.flatMap((p) => p.protocols)
    const spoke = new Set(protocols.map((p) => p.pid))
    for (const p of protocols)
      if (p.protocol !== variant.groupProtocol)
        result.problems.push(
          `process ${p.pid} joined ${p.group} with the ${p.protocol} protocol, not ${variant.groupProtocol}`,
        )
    for (const pid of new Set(parsed.flatMap((p) => p.deliveries.map((d) => d.pid))))
      if (!spoke.has(pid)) result.problems.push(`process ${pid} handled records but logged no group protocol`)
    if (swarmExitCode !== 0) result.problems.push(`multilane run exited with ${swarmExitCode} after SIGTERM`)
    // Every offset below the log ends must have been read back: a record the tool did not give
    // (or gave in a form not understood) would otherwise escape the loss check.
    if (onTopic.records.length !== count)
      result.problems.push(
        `ConsoleConsumer gave ${onTopic.records.length} records of the ${count} below the log ends (${onTopic.unreadable.length} unreadable lines)`,
      )
    result.ok = result.problems.length === 0
    return {
      variant: options.variant,
      check: result,
      topic,
      group,
      seed: options.seed,
      workerKills: kills.length,
      brokerFaults,
      producedRecords: producer.created,
      failedSends: producer.failedSends,
      swarmExitCode,
      malformedLogLines: parsed.reduce((n, p) => n + p.malformed, 0),
      unreadableTopicLines: onTopic.unreadable.length,
      workDir: run.workDir,
      faultMs,
      totalMs: Date.now() - run.began,
    }
  } finally {
    await run.close()
  }
}
