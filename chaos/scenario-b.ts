// Scenario B of the chaos harness (share groups): share group of 4 members
// (`multilane run --processes 4 examples/chaos/share-app.ts`), continuous style, capacity 20, on
// a three-broker local cluster (topic: replication factor 3, min.insync.replicas 2), with a short
// acquisition lock (group config share.record.lock.duration.ms). While a producer writes at a
// steady rate, the faults of scenario A (workers SIGKILLed every few seconds, a partition leader
// SIGKILLed once, another broker stopped and restarted) plus one member frozen (SIGSTOP) for
// longer than the lock and resumed (SIGCONT). Then the faults stop, the group drains (lag 0),
// the app stops, and the checker (chaos/share-checker.ts) judges the logs against what Kafka
// holds: the topic (ConsoleConsumer) and the share-partition start offsets (ShareGroupCommand).
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { configureShareGroup, describeShareGroup } from '../src/index.ts'
import { ChaosRun, type RunOptions } from './chaos-run.ts'
import {
  type BrokerFault,
  type FaultOptions,
  handlerRunning,
  handlingRecords,
  runFaults,
  waitFor,
} from './fault-timeline.ts'
import { seededRandom } from './faults.ts'
import { describeShareOffsets, readTopic } from './kafka-tools.ts'
import { parseShareEvents, parseWorkerLog } from './logs.ts'
import { ACK_WINDOW_MS, checkShare, type Freeze, type ShareCheckResult } from './share-checker.ts'

export const SHARE_APP_MODULE = resolve(import.meta.dirname, '../examples/chaos/share-app.ts')
export const MEMBERS = 4
/** The group's share.delivery.count.limit (Kafka's default, set explicitly). */
export const DELIVERY_COUNT_LIMIT = 5

export interface ShareScenarioOptions extends FaultOptions, RunOptions {
  /** The group's acquisition lock (share.record.lock.duration.ms). */
  lockDurationMs: number
  /** Freeze one member (SIGSTOP) for the lock plus this long, at 40 % of the fault time. */
  freezeBeyondLockMs: number
}

export const SHARE_LONG_FORM: Omit<ShareScenarioOptions, 'log' | 'seed'> = {
  faultSeconds: 60,
  killEveryMs: [3_000, 6_000],
  killLeader: true,
  stopBroker: true,
  lockDurationMs: 10_000,
  freezeBeyondLockMs: 4_000,
  rate: 200,
  keys: 200,
  partitions: 6,
  drainTimeoutMs: 600_000,
}

export interface ShareScenarioResult {
  check: ShareCheckResult
  topic: string
  group: string
  seed: number
  lockDurationMs: number
  workerKills: number
  brokerFaults: BrokerFault[]
  freezes: Freeze[]
  producedRecords: number
  failedSends: number
  swarmExitCode: number | null
  malformedLogLines: number
  unreadableTopicLines: number
  workDir: string
  faultMs: number
  totalMs: number
}

export async function runScenarioB(options: ShareScenarioOptions): Promise<ShareScenarioResult> {
  const { log } = options
  const random = seededRandom(options.seed)
  const run = await ChaosRun.open('b', options)
  const { cluster, admin, topic, group, logDir } = run
  const kafka = { bootstrap: cluster.bootstrap, clientId: 'chaos-harness' }
  const freezes: Freeze[] = []
  let frozen: number | undefined
  try {
    await run.createTopic()
    // Before the first member joins: read from the start (the producer starts first), a short
    // lock, and a session timeout well past the freeze, so the frozen member keeps its
    // membership and what moves its records is the lock expiring, not a fencing.
    await configureShareGroup(kafka, group, {
      autoOffsetReset: 'earliest',
      recordLockDurationMs: options.lockDurationMs,
      deliveryCountLimit: DELIVERY_COUNT_LIMIT,
      sessionTimeoutMs: Math.min(60_000, 2 * (options.lockDurationMs + options.freezeBeyondLockMs)),
    })
    log(`share group ${group}: lock ${options.lockDurationMs} ms, earliest`)
    const producer = run.startProducer()
    const swarm = run.startSwarm(SHARE_APP_MODULE, MEMBERS)
    await swarm.waitForWorkers(MEMBERS, 300_000)
    // Faults start once every member handles records: a kill or a freeze then has work to lose.
    await waitFor(
      'every member handling records',
      600_000,
      async () =>
        swarm.workers().length === MEMBERS &&
        swarm.workers().every((w) => handlingRecords(logDir, w.worker, w.pid)),
    )
    log(`every member handles records; faults for ${options.faultSeconds} s`)

    let spareUntil = 0
    const { kills, brokerFaults, faultMs } = await runFaults({
      cluster,
      swarm,
      topic,
      partitions: options.partitions,
      logDir,
      options,
      random,
      log,
      // The frozen member is not killed while frozen, nor until it has resumed and settled.
      spare: () => new Set(frozen !== undefined && Date.now() < spareUntil ? [frozen] : []),
      extra: async (at, since) => {
        await at(0.4)
        // A member with a handler running (up to 10 s to catch one), else any handling records.
        let victim: { worker: number; pid: number } | undefined
        const deadline = Date.now() + 10_000
        while (!victim && Date.now() < deadline) {
          const candidates = swarm.workers().filter((w) => handlerRunning(logDir, w.worker, w.pid))
          victim = candidates[Math.floor(random() * candidates.length)]
          if (!victim) await sleep(20)
        }
        victim ??= swarm.workers().find((w) => handlingRecords(logDir, w.worker, w.pid))
        if (!victim) {
          log('  no member to freeze')
          return
        }
        frozen = victim.pid
        spareUntil = Number.POSITIVE_INFINITY
        const from = performance.timeOrigin + performance.now()
        swarm.freeze(victim.pid)
        log(`  ${since()}: SIGSTOP worker ${victim.worker} (pid ${victim.pid})`)
        await sleep(options.lockDurationMs + options.freezeBeyondLockMs)
        swarm.resume(victim.pid)
        const to = performance.timeOrigin + performance.now()
        freezes.push({ pid: victim.pid, worker: victim.worker, from, to })
        spareUntil = Date.now() + 15_000
        log(`  ${since()}: SIGCONT worker ${victim.worker} (frozen ${((to - from) / 1000).toFixed(1)} s)`)
      },
    })
    log(
      `faults over after ${(faultMs / 1000).toFixed(1)} s: ${kills.length} worker kills, ${brokerFaults.length} broker faults, ${freezes.length} freeze`,
    )

    await producer.stop()
    log(`producer stopped: ${producer.created} records, ${producer.acknowledged.length} acknowledged`)
    await swarm.waitForWorkers(MEMBERS, 300_000)
    await waitFor('share lag 0 on every partition', options.drainTimeoutMs, async () => {
      const d = await describeShareGroup(kafka, group)
      return d.partitions.length === options.partitions && d.partitions.every((p) => p.lag === 0)
    })
    log('drained: share lag 0 on every partition; stopping the app (SIGTERM)')
    const swarmExitCode = await swarm.stop(120_000)
    log(`multilane run exited with ${swarmExitCode}`)

    // Kafka's own view: log ends, start offsets (ShareGroupCommand), then every record.
    const bootstrap = cluster.bootstrap.join(',')
    const indexes = [...Array(options.partitions).keys()]
    const [ends] = await admin.listOffsets({
      topics: [{ name: topic, partitions: indexes.map((p) => ({ partitionIndex: p, timestamp: -1n })) }],
    })
    const logEnds = new Map(ends!.partitions.map((p) => [p.partitionIndex, Number(p.offset)]))
    const count = [...logEnds.values()].reduce((a, b) => a + b, 0)
    const described = await describeShareOffsets(cluster.env, bootstrap, group, topic)
    log(`ShareGroupCommand: ${described.rows.length} rows; reading ${count} records with ConsoleConsumer`)
    const onTopic = await readTopic(cluster.env, bootstrap, topic, count)

    const texts = run.workerLogs()
    const parsed = texts.map(parseWorkerLog)
    const result = checkShare({
      partitions: options.partitions,
      acknowledged: producer.acknowledged,
      topicRecords: onTopic.records,
      deliveries: parsed.flatMap((p) => p.deliveries),
      events: texts.flatMap(parseShareEvents),
      ends: swarm.ends,
      freezes,
      brokerFaults,
      logEnds,
      startOffsets: described.rows,
      deliveryCountLimit: DELIVERY_COUNT_LIMIT,
      ackWindowMs: ACK_WINDOW_MS,
    })
    if (swarmExitCode !== 0) result.problems.push(`multilane run exited with ${swarmExitCode} after SIGTERM`)
    for (const f of freezes) {
      // Killed later by the harness is fine; exiting on its own is a crash.
      const end = swarm.ends.find((e) => e.pid === f.pid && e.cause === 'exit')
      if (end)
        result.problems.push(`the frozen worker ${f.worker} (pid ${f.pid}) exited on its own after SIGCONT`)
    }
    if (onTopic.records.length !== count)
      result.problems.push(
        `ConsoleConsumer gave ${onTopic.records.length} records of the ${count} below the log ends (${onTopic.unreadable.length} unreadable lines)`,
      )
    result.ok = result.problems.length === 0
    return {
      check: result,
      topic,
      group,
      seed: options.seed,
      lockDurationMs: options.lockDurationMs,
      workerKills: kills.length,
      brokerFaults,
      freezes,
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
    if (frozen !== undefined) {
      try {
        run.swarm?.resume(frozen)
      } catch {
        // gone
      }
    }
    await run.close()
  }
}
