/**
 * The process swarm of `multilane run --processes N`: N worker processes, each running the app
 * with its share of the segments, supervised. A worker that dies is restarted with backoff; one
 * that keeps failing (RESTART_DEFAULTS.maxFailures unexpected exits within windowMs) ends the
 * swarm with exit code 1; one that exits WORKER_EXIT.fatal ends it at once, and one that exits
 * WORKER_EXIT.clusterUnreachable is restarted without counting. SIGTERM/SIGINT become a stop
 * request to every worker (over IPC, so a worker that got the signal directly too still drains):
 * the swarm exits 0 once every worker drained; a second signal makes the workers exit at once and
 * the swarm exits with 128 + the signal's number.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { MultilaneError } from '../errors.ts'
import { isClusterUnreachable } from './cluster-wait.ts'
import type { PlacedGroup } from './members.ts'

/** What one worker runs. */
export interface WorkerPlan {
  worker: number
  /** Its segment ids (of every segmented group); undefined when the app has none. */
  segments: number[] | undefined
}

/**
 * Spreads the segments over `processes` workers: the k-th id (of `segments`, default every id
 * from 0 to the largest count - 1) goes to worker k % processes, so by default worker w gets
 * the ids i with i % processes === w; ids beyond a group's count run nothing of that group.
 * Without segmented groups every worker runs an ordinary member of each group. A worker with
 * no segment and no unsegmented group to run would idle: it is left out (`idle`). Share groups
 * (`shareGroups`: how many the app has) run a member in every worker, so no worker idles then.
 */
export function planWorkers(
  groups: readonly PlacedGroup[],
  processes: number,
  segments?: readonly number[],
  shareGroups = 0,
): { workers: WorkerPlan[]; idle: number[] } {
  const counts = groups.map((g) => g.parallelSegments.count).filter((c) => c > 1)
  const all = Array.from({ length: processes }, (_, w) => w)
  if (counts.length === 0) {
    if (segments) {
      throw new MultilaneError(
        'INVALID_PLACEMENT',
        'segments were given, but no consumer group of the app has parallel segments',
      )
    }
    return { workers: all.map((worker) => ({ worker, segments: undefined })), idle: [] }
  }
  const ids = segments ?? Array.from({ length: Math.max(...counts) }, (_, i) => i)
  const plain = shareGroups > 0 || groups.some((g) => g.parallelSegments.count <= 1)
  const planned = all.map((worker) => ({ worker, segments: ids.filter((_, k) => k % processes === worker) }))
  return {
    workers: planned.filter((w) => plain || w.segments.length > 0),
    idle: planned.filter((w) => !plain && w.segments.length === 0).map((w) => w.worker),
  }
}

/** When a worker "keeps failing", and how long restarts wait. */
export interface RestartOptions {
  /** The first restart waits this long; each further failure within the window doubles it. */
  initialBackoffMs: number
  maxBackoffMs: number
  /** This many unexpected exits of one worker within `windowMs` end the swarm. */
  maxFailures: number
  windowMs: number
}

/**
 * Exit codes a worker uses to tell the swarm why it failed (other non-zero codes are crashes,
 * restarted with backoff and counted toward giving up).
 */
export const WORKER_EXIT = Object.freeze({
  /** No broker reachable within kafka.startTimeoutMs, or no coordinator found: the cluster is failing, not the worker. Restarted, not counted. */
  clusterUnreachable: 75,
  /** A failure no restart can fix (a routing mismatch, an invalid definition, its HTTP port taken): not restarted; the swarm stops, exit 1. */
  fatal: 78,
})

/**
 * What the swarm sends a worker over the IPC channel: `stop` drains it (as a first SIGTERM would,
 * without counting as a signal), `exit` ends it at once with `code`.
 */
export type SwarmMessage = { type: 'stop' } | { type: 'exit'; code: number }

/** Error codes (anywhere in the cause chain) that make a worker exit with WORKER_EXIT.fatal. */
// HTTP_PORT_IN_USE: another process holds the worker's port (P + 1 + w); a restart cannot free it.
const FATAL_CODES = new Set([
  'ROUTING_MISMATCH',
  'INVALID_CONFIGURATION',
  'INVALID_PLACEMENT',
  'HTTP_PORT_IN_USE',
])

/** The exit code of a worker whose app failed with `error` (see WORKER_EXIT). */
export function workerExitCode(error: unknown): number {
  const codes: unknown[] = []
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; depth++) {
    codes.push(e.code)
    e = e.cause as typeof e
  }
  if (codes.some((c) => typeof c === 'string' && FATAL_CODES.has(c))) return WORKER_EXIT.fatal
  // A cluster failing over: no broker answered, or the group's coordinator could not be found.
  if (isClusterUnreachable(error) || codes.includes('COORDINATOR_NOT_FOUND'))
    return WORKER_EXIT.clusterUnreachable
  return 1
}

export const RESTART_DEFAULTS: Readonly<RestartOptions> = Object.freeze({
  initialBackoffMs: 500,
  maxBackoffMs: 10_000,
  maxFailures: 5,
  windowMs: 60_000,
})

/** One worker's failures: decides the next restart's delay, or that it keeps failing (pure). */
export class RestartPolicy {
  readonly #options: RestartOptions
  #failures: number[] = []

  constructor(options: RestartOptions = RESTART_DEFAULTS) {
    this.#options = options
  }

  /** Records a failure at `now`; returns the delay before the restart, or 'give_up'. */
  failed(now: number): number | 'give_up' {
    const { windowMs, maxFailures, initialBackoffMs, maxBackoffMs } = this.#options
    this.#failures = [...this.#failures.filter((t) => now - t < windowMs), now]
    if (this.#failures.length >= maxFailures) return 'give_up'
    return Math.min(maxBackoffMs, initialBackoffMs * 2 ** (this.#failures.length - 1))
  }

  /** Failures within the window, as of the last one. */
  get recentFailures(): number {
    return this.#failures.length
  }
}

export interface SwarmOptions {
  workers: readonly WorkerPlan[]
  /** The worker program and its arguments; the worker's segments are appended (JSON, `null` for none). */
  command: { file: string; args: readonly string[] }
  restart?: RestartOptions
  /** The swarm's own messages (worker started, exited, restarting, giving up). */
  log: (message: string) => void
}

interface Worker {
  plan: WorkerPlan
  child: ChildProcess | undefined
  policy: RestartPolicy
  /** Backoff of exits while the cluster was unreachable: never gives up. */
  unreachable: RestartPolicy
  restartTimer: NodeJS.Timeout | undefined
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 }

/** Runs the workers until a signal drained them (0), or one kept failing (1). */
export function runSwarm(options: SwarmOptions): Promise<number> {
  const restart = options.restart ?? RESTART_DEFAULTS
  const workers: Worker[] = options.workers.map((plan) => ({
    plan,
    child: undefined,
    policy: new RestartPolicy(restart),
    unreachable: new RestartPolicy({ ...restart, maxFailures: Number.POSITIVE_INFINITY }),
    restartTimer: undefined,
  }))
  const describe = (w: Worker) =>
    `worker ${w.plan.worker}${w.plan.segments ? ` (segments ${w.plan.segments.join(',') || 'none'})` : ''}`
  let stopping: { signal?: NodeJS.Signals } | undefined
  let exitCode = 0
  let done!: (code: number) => void
  const finished = new Promise<number>((resolve) => {
    done = resolve
  })

  const finishIfIdle = () => {
    if (stopping && workers.every((w) => !w.child)) {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      done(exitCode)
    }
  }

  /**
   * Asks every worker to drain (`now`: to exit at once with `code`) over its IPC channel, not
   * with a signal: a worker that also gets the signal directly (a cgroup-wide SIGTERM) must see
   * one stop, not two. A worker whose channel is gone gets `signal`.
   */
  const stopAll = (signal: NodeJS.Signals, now?: { code: number }) => {
    const message: SwarmMessage = now ? { type: 'exit', code: now.code } : { type: 'stop' }
    for (const w of workers) {
      clearTimeout(w.restartTimer)
      w.restartTimer = undefined
      const child = w.child
      if (!child) continue
      if (child.connected) child.send(message, (error) => error && child.kill(signal))
      else child.kill(signal)
    }
    finishIfIdle()
  }

  const start = (w: Worker) => {
    w.restartTimer = undefined
    const child = spawn(
      options.command.file,
      [...options.command.args, JSON.stringify(w.plan.segments ?? null)],
      {
        // Its own process group: a terminal's Ctrl-C (SIGINT to the foreground group) reaches
        // the swarm only, which forwards it once — a worker that got it twice would take the
        // second for "exit at once" and not drain. The IPC channel tells a worker that the
        // swarm is gone (it drains and exits then, not left running on its own).
        detached: true,
        stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, MULTILANE_WORKER: String(w.plan.worker) },
      },
    )
    w.child = child
    options.log(`${describe(w)} started (pid ${child.pid})`)
    child.once('exit', (code, signal) => {
      w.child = undefined
      const how = signal ? `by ${signal}` : `with code ${code}`
      if (stopping) {
        if (code !== 0) exitCode = exitCode || 1
        options.log(`${describe(w)} ${code === 0 ? 'drained and exited' : `exited ${how}`}`)
        finishIfIdle()
        return
      }
      if (code === WORKER_EXIT.fatal) {
        options.log(
          `${describe(w)} exited with code ${code}: it failed with an error no restart can fix (its message is above); ` +
            'not restarting it: stopping the other workers',
        )
        exitCode = 1
        stopping = {}
        stopAll('SIGTERM')
        return
      }
      if (code === WORKER_EXIT.clusterUnreachable) {
        const delay = w.unreachable.failed(Date.now()) as number
        options.log(
          `${describe(w)} could not reach the cluster (exit code ${code}); restarting in ${delay} ms ` +
            '(not counted as a failure of the worker)',
        )
        w.restartTimer = setTimeout(() => start(w), delay)
        return
      }
      const next = w.policy.failed(Date.now())
      if (next === 'give_up') {
        options.log(
          `${describe(w)} exited ${how}: it failed ${restart.maxFailures} times within ${restart.windowMs / 1000} s; ` +
            'stopping the other workers and giving up',
        )
        exitCode = 1
        stopping = {}
        stopAll('SIGTERM')
        return
      }
      options.log(`${describe(w)} exited ${how}; restarting in ${next} ms`)
      w.restartTimer = setTimeout(() => start(w), next)
    })
  }

  function onSignal(signal: NodeJS.Signals): void {
    if (stopping?.signal) {
      options.log(`second ${signal}: the workers exit without draining`)
      exitCode = 128 + (SIGNAL_NUMBERS[signal] ?? 0)
      stopAll(signal, { code: exitCode })
      return
    }
    stopping = { signal }
    options.log(`${signal}: draining the workers`)
    stopAll(signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  for (const w of workers) start(w)
  return finished
}
