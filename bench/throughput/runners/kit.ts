// Shared by the runner scripts: their flags, the throughput meter, and the one JSON line each
// runner prints on stdout. Runners print nothing else on stdout (diagnostics go to stderr).
//
//   <runner>.ts --bootstrap host:port[,host:port] --topic T --records N --bytes N
import { randomBytes } from 'node:crypto'
import { GCProfiler } from 'node:v8'
import { type FlagSpec, intFlag, runCli, stringFlag } from '../flags.ts'

export interface RunnerArgs {
  bootstrap: string[]
  topic: string
  /** Records in the topic: the runner stops once it has received exactly this many. */
  records: number
  /** Size of every record value (used where a runner cannot count value bytes itself). */
  bytes: number
}

/** What a runner prints (one JSON line). */
export interface RunnerResult {
  name: string
  records: number
  /** Milliseconds from the first record received to the last. */
  ms: number
  recordsPerSec: number
  /** Milliseconds from just before joining the group to the last record. */
  msIncludingJoin: number
  recordsPerSecIncludingJoin: number
  /** Sum of the value lengths received. */
  valueBytes: number
  /**
   * CPU time (user + system) the runner's process spent per record from the first record to the
   * last, in µs: unlike records/s, hardly moved by other processes on the machine (the broker
   * included). All the process's threads count (`process.cpuUsage()`: GC and libuv threads too).
   * Node runners, and kcat (its process's CPU from /proc, over the same span); not Java.
   */
  cpuUsPerRecord?: number
  /**
   * Full (mark-compact) collections of the runner's process between the first record and the
   * last (Node runners): what tells a run in Node 24's Buffer-collecting mode from one without
   * it (docs/operations.md § The collector and fetched Buffers).
   */
  majorGcs?: number
  /** How `ms` was measured, when it is not the runner's own first-to-last record clock. */
  timing?: string
  /** The client settings the runner used. */
  config: Record<string, unknown>
  /** Raw figures a runner took from a tool's own report. */
  raw?: Record<string, unknown>
}

const RUNNER_FLAGS: Record<string, FlagSpec> = {
  bootstrap: { kind: 'string', required: true, description: 'host:port[,host:port…] of the cluster' },
  topic: { kind: 'string', required: true, description: 'topic to consume from the beginning' },
  records: {
    kind: 'int',
    min: 1,
    required: true,
    description: 'records in the topic; stop after exactly this many',
  },
  bytes: { kind: 'int', min: 1, required: true, description: 'bytes per record value' },
}

/** A group id no earlier run used, so every run starts without committed offsets. */
export function uniqueGroupId(name: string): string {
  return `bench-${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
}

/** Parses the runner flags, runs `consume`, and prints its result as one JSON line. */
export async function runRunner(name: string, consume: (args: RunnerArgs) => Promise<RunnerResult>) {
  await runCli(`${name} runner`, RUNNER_FLAGS, process.argv.slice(2), async (flags) => {
    const args: RunnerArgs = {
      bootstrap: stringFlag(flags, 'bootstrap')!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      topic: stringFlag(flags, 'topic')!,
      records: intFlag(flags, 'records', 0),
      bytes: intFlag(flags, 'bytes', 0),
    }
    const result = await consume(args)
    if (result.records !== args.records) {
      throw new Error(`${name}: received ${result.records} records, expected ${args.records}`)
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return 0
  })
}

export interface MeterOptions {
  /** Fail when no record arrives for this long once records flow (default 60 s). */
  stallMs?: number
  /** Fail when the first record has not arrived this long after `join()` (default 120 s). */
  firstRecordMs?: number
}

/**
 * Counts records and takes the times: `join()` just before the client subscribes, then `add()`
 * per record or batch as the application receives it. A watchdog ends the process (exit 1) when
 * records stop arriving, so a stuck client never hangs the benchmark.
 */
export class ThroughputMeter {
  readonly expected: number
  records = 0
  valueBytes = 0
  #joinAt = 0
  #firstAt = 0
  #lastAt = 0
  #firstCpu: NodeJS.CpuUsage | undefined
  #cpuUs = 0
  /** Collections from the first record to the last (`stop()` reports them synchronously, all of them). */
  readonly #gcProfiler = new GCProfiler()
  #majorGcs: number | undefined
  #watchdog: NodeJS.Timeout | undefined
  #resolveDone: () => void = () => {}
  /** Resolves once `expected` records were counted. */
  readonly done: Promise<void>

  constructor(expected: number, options: MeterOptions = {}) {
    this.expected = expected
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve
    })
    const stallMs = options.stallMs ?? 60_000
    const firstRecordMs = options.firstRecordMs ?? 120_000
    let seen = -1
    let seenAt = 0
    this.#watchdog = setInterval(() => {
      if (this.#joinAt === 0) return
      const now = performance.now()
      if (this.records !== seen) {
        seen = this.records
        seenAt = now
        return
      }
      const limit = this.records === 0 ? firstRecordMs : stallMs
      if (now - Math.max(seenAt, this.#joinAt) > limit) {
        process.stderr.write(
          `stalled: ${this.records} of ${this.expected} records received, none for ${Math.round(limit / 1000)} s\n`,
        )
        process.exit(1)
      }
    }, 1000)
    this.#watchdog.unref()
  }

  /** Marks the start of group join (the `msIncludingJoin` clock). */
  join(): void {
    this.#joinAt = performance.now()
  }

  /**
   * Counts `count` records with `valueBytes` bytes of values; returns true once all expected
   * records are in (further records are counted too, and make the runner fail).
   */
  add(count: number, valueBytes: number): boolean {
    if (count === 0) return this.records >= this.expected
    // The clock is read at the first record and the last only: runners that count per record
    // (the app's handler, platformatic's stream) would otherwise pay a clock read per record
    // that the runners counting per batch do not.
    if (this.records === 0) {
      this.#firstAt = this.#lastAt = performance.now()
      this.#firstCpu = process.cpuUsage()
      this.#gcProfiler.start()
    }
    const before = this.records
    this.records += count
    this.valueBytes += valueBytes
    if (this.records >= this.expected) {
      if (before < this.expected) {
        this.#lastAt = performance.now()
        const cpu = process.cpuUsage(this.#firstCpu)
        this.#cpuUs = cpu.user + cpu.system
        const gcs = this.#gcProfiler.stop()?.statistics ?? []
        this.#majorGcs = gcs.filter((g) => g.gcType === 'MarkSweepCompact').length
      }
      clearInterval(this.#watchdog)
      this.#resolveDone()
      return true
    }
    return false
  }

  result(name: string, config: Record<string, unknown>): RunnerResult {
    const ms = this.#lastAt - this.#firstAt
    const msIncludingJoin = this.#lastAt - this.#joinAt
    return {
      name,
      records: this.records,
      ms: round(ms),
      recordsPerSec: Math.round(this.records / (ms / 1000)),
      msIncludingJoin: round(msIncludingJoin),
      recordsPerSecIncludingJoin: Math.round(this.records / (msIncludingJoin / 1000)),
      valueBytes: this.valueBytes,
      ...(this.#cpuUs > 0 ? { cpuUsPerRecord: Math.round((this.#cpuUs / this.records) * 1000) / 1000 } : {}),
      ...(this.#majorGcs !== undefined ? { majorGcs: this.#majorGcs } : {}),
      config,
    }
  }

  /** Stops the watchdog (when a runner gives up on its own). */
  stop(): void {
    clearInterval(this.#watchdog)
    if (this.records > 0 && this.#majorGcs === undefined) this.#gcProfiler.stop()
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
