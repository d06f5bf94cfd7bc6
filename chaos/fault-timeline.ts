// What scenarios A and B share: waiting on a condition, telling whether a worker is handling
// records, and the fault timeline itself (worker SIGKILLs on one timeline, a partition leader's
// SIGKILL and another broker's controlled stop on a second, and whatever a scenario adds on a
// third), so both scenarios inject the same faults the same way.
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChaosCluster } from './cluster.ts'
import { pickVictim } from './faults.ts'
import type { Swarm } from './swarm.ts'

/** The faults both scenarios inject. */
export interface FaultOptions {
  /** How long faults are injected. */
  faultSeconds: number
  /** Worker kills: a random pause between `killEveryMs[0]` and `killEveryMs[1]` before each. */
  killEveryMs: [number, number]
  /** SIGKILL a partition leader once (and start it again). */
  killLeader: boolean
  /** Stop another broker with a controlled shutdown once (and start it again). */
  stopBroker: boolean
}

export interface BrokerFault {
  node: number
  kind: 'sigkill (leader)' | 'controlled stop'
  /** The partition whose leader it was (sigkill). */
  partition?: number
  /** When it went down (epoch ms). */
  t: number
  downMs: number
}

export interface FaultTimeline {
  kills: Array<{ worker: number; pid: number; t: number }>
  brokerFaults: BrokerFault[]
  faultStart: number
  faultMs: number
}

/** Polls `condition` every second until it holds; errors (the cluster recovering) count as "not yet". */
export async function waitFor(
  what: string,
  timeoutMs: number,
  condition: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      if (await condition()) return
    } catch (error) {
      lastError = error // the cluster recovering: ask again
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      )
    await sleep(1000)
  }
}

/** The last 64 KiB of worker `worker`'s log, as lines ('' when there is none yet). */
function logTail(logDir: string, worker: number): string[] {
  const file = join(logDir, `worker-${worker}.jsonl`)
  try {
    const size = statSync(file).size
    const length = Math.min(size, 64 * 1024)
    const buffer = Buffer.alloc(length)
    const fd = openSync(file, 'r')
    try {
      readSync(fd, buffer, 0, length, size - length)
    } finally {
      closeSync(fd)
    }
    return buffer.toString('utf8').split('\n')
  } catch {
    return []
  }
}

/**
 * Whether worker `worker`'s process `pid` has logged a handler start lately (the last 64 KiB of
 * its log): a restarted worker gets work only after a while (a consumer-group member once the
 * killed member's session timed out), and a kill before that tests nothing.
 */
export function handlingRecords(logDir: string, worker: number, pid: number): boolean {
  return logTail(logDir, worker).some((line) => line.startsWith('{"e":"s"') && line.includes(`"pid":${pid},`))
}

/** Whether process `pid` of worker `worker` has a handler running now (its last start has no finish yet). */
export function handlerRunning(logDir: string, worker: number, pid: number): boolean {
  const open = new Set<string>()
  for (const line of logTail(logDir, worker)) {
    if (!line.includes(`"pid":${pid},`)) continue
    const at = /"p":(\d+),"o":(\d+)/.exec(line)
    if (!at) continue
    if (line.startsWith('{"e":"s",')) open.add(`${at[1]}:${at[2]}`)
    else if (line.startsWith('{"e":"f",')) open.delete(`${at[1]}:${at[2]}`)
  }
  return open.size > 0
}

export interface TimelineContext {
  cluster: ChaosCluster
  swarm: Swarm
  topic: string
  partitions: number
  logDir: string
  options: FaultOptions
  random: () => number
  log: (message: string) => void
  /** Pids the worker killer must leave alone now (B: the frozen member, until it has resumed and settled). */
  spare?: () => ReadonlySet<number>
  /** A scenario's own faults, run beside the others from the fault start (B: a member frozen). */
  extra?: (at: (fraction: number) => Promise<void>, since: () => string) => Promise<void>
}

/** Injects the faults (see FaultOptions) and resolves once they are all over. */
export async function runFaults(ctx: TimelineContext): Promise<FaultTimeline> {
  const { cluster, swarm, topic, options, random, log } = ctx
  const faultStart = Date.now()
  const faultEnd = faultStart + options.faultSeconds * 1000
  const since = () => `${((Date.now() - faultStart) / 1000).toFixed(1)} s`
  const at = (fraction: number) =>
    sleep(Math.max(0, faultStart + fraction * options.faultSeconds * 1000 - Date.now()))
  const kills: FaultTimeline['kills'] = []
  const killer = (async () => {
    for (;;) {
      const [min, max] = options.killEveryMs
      await sleep(min + random() * (max - min))
      if (Date.now() >= faultEnd) return
      const spared = ctx.spare?.() ?? new Set<number>()
      const busy = swarm
        .workers()
        .filter((w) => !spared.has(w.pid) && handlingRecords(ctx.logDir, w.worker, w.pid))
      const victim = pickVictim(busy, kills, Date.now(), random)
      if (!victim) {
        log('  no worker to kill now (each handling records, at most 3 kills a minute)')
        continue
      }
      swarm.kill(victim.pid)
      kills.push({ worker: victim.worker, pid: victim.pid, t: Date.now() })
      log(`  ${since()}: SIGKILL worker ${victim.worker} (pid ${victim.pid})`)
    }
  })()
  const brokerFaults: BrokerFault[] = []
  const brokers = (async () => {
    let leader: number | undefined
    if (options.killLeader) {
      await at(0.2)
      const partition = Math.floor(random() * ctx.partitions)
      leader = (await cluster.partitions(topic))[partition]!.leader
      const down = Date.now()
      log(`  ${since()}: SIGKILL broker ${leader}, leader of partition ${partition}`)
      await cluster.stopNode(leader, true)
      await sleep(5_000)
      await cluster.startNode(leader)
      brokerFaults.push({
        node: leader,
        kind: 'sigkill (leader)',
        partition,
        t: down,
        downMs: Date.now() - down,
      })
      log(`  ${since()}: broker ${leader} back`)
    }
    if (options.stopBroker) {
      // Another node, once every partition is fully replicated again: two nodes down would
      // leave partitions below min.insync.replicas (writes refused, not a multilane fault).
      await waitFor('every replica in sync', 300_000, async () =>
        (await cluster.partitions(topic)).every((p) => p.isr.length === 3),
      )
      await at(0.55)
      const nodes = (await cluster.nodes()).map((n) => n.nodeId).filter((n) => n !== leader)
      const node = nodes[Math.floor(random() * nodes.length)]!
      const down = Date.now()
      log(`  ${since()}: controlled stop of broker ${node}`)
      await cluster.stopNode(node, false)
      await sleep(5_000)
      await cluster.startNode(node)
      brokerFaults.push({ node, kind: 'controlled stop', t: down, downMs: Date.now() - down })
      log(`  ${since()}: broker ${node} back`)
    }
  })()
  await Promise.all([killer, brokers, ctx.extra?.(at, since)])
  return { kills, brokerFaults, faultStart, faultMs: Date.now() - faultStart }
}
