import type { Logger } from 'pino'
import { MultilaneError } from '../errors.ts'
import type { EventBus } from '../instrumentation/events.ts'
import type { PartitionControl } from './partition-control.ts'
import type { PartitionRun } from './partition-run.ts'
import type { FlushOptions, Progress } from './progress.ts'
import type { RuntimeGroup } from './runtime-input.ts'

/** The commit at shutdown gets this long; a broker that does not answer must not hold the process. */
const CLOSE_COMMIT_TIMEOUT_MS = 3000

export interface RevocationDrainOptions {
  member: RuntimeGroup
  events: EventBus
  logger: Logger
  progress: Progress
  control: PartitionControl
  /** True while the runtime runs (a revocation then commits without a deadline). */
  running(): boolean
}

/**
 * Partitions leaving the member (revoked, or all of them at shutdown): nothing new of them is
 * dispatched, their records not started are left to the next owner, the running ones get until
 * `revokeTimeoutMs` (`shutdownTimeoutMs` when closing) to finish, and what is done is committed
 * before the revocation is acknowledged. Also the progress reports of the running member.
 */
export class RevocationDrain {
  readonly #o: RevocationDrainOptions
  /** Ends every drain early: at the shutdown deadline after a stop, at once on a fatal error. */
  readonly #cut: Promise<void>
  #resolveCut!: () => void
  #cutTimer: NodeJS.Timeout | undefined
  /** The member failed for good: nothing more is committed. */
  #failed = false
  #stopFailure: Error | undefined

  constructor(options: RevocationDrainOptions) {
    this.#o = options
    this.#cut = new Promise<void>((resolve) => (this.#resolveCut = resolve))
  }

  /**
   * Why the graceful stop did not end cleanly: the closing commit failed (COMMIT_FAILED), or
   * records still running at `shutdownTimeoutMs` were abandoned (SHUTDOWN_TIMEOUT).
   */
  get stopFailure(): Error | undefined {
    return this.#stopFailure
  }

  /** The member stops: a drain under way (or to come) gets no more than the shutdown's own deadline. */
  cutAfter(ms: number): void {
    this.#cutTimer = setTimeout(this.#resolveCut, ms)
  }

  /** The member stopped: the shutdown deadline's timer goes. */
  clearCutTimer(): void {
    clearTimeout(this.#cutTimer)
  }

  /** The member failed for good: partitions being drained are as good as lost, nothing more is committed for them. */
  fail(): void {
    this.#failed = true
    this.#resolveCut()
  }

  /** Drains `runs` and commits what they finished; the caller retires them after. */
  async drain(runs: readonly PartitionRun[], reason: 'revoked' | 'closing'): Promise<void> {
    const { member, control } = this.#o
    for (const run of runs) {
      run.revoking = true
      // A seek on a partition that is leaving is moot.
      run.seekTo = undefined
      // Records not started yet (or waiting for a retry) are left to the next owner.
      control.abandonQueued(run)
    }
    const deadline = reason === 'closing' ? member.shutdownTimeoutMs : member.revokeTimeoutMs
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(runs.map((r) => r.whenIdle())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadline)
      }),
      this.#cut,
    ])
    clearTimeout(timer)
    if (reason === 'closing') this.#reportAbandoned(runs)
    // Partitions lost while draining (the member was fenced, or failed) are not committed.
    if (!this.#failed && reason === 'closing') await this.#closingFlush(runs)
    else if (!this.#failed) {
      await this.flush(
        runs.filter((r) => r.active),
        { timeoutMs: this.#o.running() ? undefined : CLOSE_COMMIT_TIMEOUT_MS },
      )
    }
  }

  /** Reports the progress of the active ones of `runs`; a failure becomes an event, never a rejection. */
  flush(runs: readonly PartitionRun[], options?: FlushOptions): Promise<void> {
    const progress = runs.flatMap((run) => (run.active ? [run.progress] : []))
    return this.#o.progress.flush(progress, options).catch((error: unknown) => {
      this.#o.events.emit('error.occurred', {
        type: 'consumer.commit.error',
        error: error instanceof Error ? error : new Error(String(error)),
        consumerGroup: this.#o.member.group.name,
      })
    })
  }

  /**
   * The shutdown's commit: a failure (reported as an event by the progress) fails the stop, since
   * the records handled since the last commit will be delivered again.
   */
  async #closingFlush(runs: readonly PartitionRun[]): Promise<void> {
    const progress = runs.flatMap((run) => (run.active ? [run.progress] : []))
    try {
      await this.#o.progress.flush(progress, { timeoutMs: CLOSE_COMMIT_TIMEOUT_MS, throwOnError: true })
    } catch (error) {
      this.#stopFailure ??= new MultilaneError(
        'COMMIT_FAILED',
        `consumerGroup "${this.#o.member.label}": the final commit at shutdown failed (${(error as Error).message}); the records handled since the last commit will be delivered again`,
        { cause: error },
      )
    }
  }

  /**
   * The shutdown's deadline passed with records still running: they are abandoned (delivered
   * again to the next owner). Said once, with how many and where; the stop then fails.
   */
  #reportAbandoned(runs: readonly PartitionRun[]): void {
    const left = runs.filter((r) => r.active && r.inFlight > 0)
    if (left.length === 0) return
    const count = left.reduce((n, r) => n + r.inFlight, 0)
    const partitions = left.map((r) => `${r.topic.name}#${r.partition}`)
    const { label, shutdownTimeoutMs } = this.#o.member
    this.#o.logger.warn(
      { abandoned: count, partitions, shutdownTimeoutMs },
      `shutdown: ${count} record(s) still running after shutdownTimeoutMs (${shutdownTimeoutMs} ms) abandoned, in ${partitions.join(', ')}; they will be delivered again`,
    )
    this.#stopFailure ??= new MultilaneError(
      'SHUTDOWN_TIMEOUT',
      `consumerGroup "${label}": ${count} record(s) still running after shutdownTimeoutMs (${shutdownTimeoutMs} ms) were abandoned (${partitions.join(', ')}); they will be delivered again`,
    )
  }
}
