/** The figures of a bench run, as the result bundle stores them. */
import type { TimelineSample } from './recorder.ts'
import type { PointConfig } from './workload-schema.ts'

/** Latency percentiles in ms (null when nothing was measured). */
export interface LatencySummary {
  count: number
  p50: number | null
  p90: number | null
  p99: number | null
  p999: number | null
  max: number | null
  mean: number | null
}

/** One test point's measured figures (warm-up excluded). */
export interface PointResult {
  name: string
  /** The overrides and dimension values that make the point. */
  set: Record<string, unknown>
  config: PointConfig
  /** Ctrl-C ended the measurement early. */
  interrupted: boolean
  /** From the start of the point until production started (group join and assignment). */
  setupSeconds: number
  measuredSeconds: number
  offeredRate: number
  /** Records/s acknowledged by the broker inside the window. */
  producedRate: number
  /** Records/s handled (done) inside the window. */
  consumedRate: number
  /** (produced − offered) / offered. */
  rateError: number
  produced: number
  handled: number
  /** Produced records no handler finished by the end of the drain: must be 0. */
  lost: number
  duplicates: number
  injectedFailures: number
  /** Processing start − publish time. */
  endToEndMs: LatencySummary
  /** Done − publish time. */
  publishToDoneMs: LatencySummary
  lag: { max: number | null; mean: number | null; end: number | null }
  timeline: TimelineSample[]
  /**
   * The bench process over the window: CPU used (100 = one core) and event loop delay. A busy
   * loop or a long delay means the bench (members, producer) itself limits the figures.
   */
  benchProcess: {
    cpuPercent: number | null
    eventLoopDelayMs: { p50: number | null; p99: number | null; max: number | null }
  }
  errors: string[]
  /** HDR percentile distributions (.hgrm text), values in ms. */
  histograms: { endToEnd: string; publishToDone: string }
}

/** Where and on what the run happened; never credentials. */
export interface BenchEnvironment {
  node: string
  multilane: string
  kafka: string
  /** `local` (the project's broker, with its directory) or the bootstrap address. */
  target: string
  cpus: number
  cpuModel: string
  platform: string
  /** 1-minute load average when the run started (the machine may be shared). */
  loadAverage: number[]
  startedAt: string
}

/** `summary.json` of a bundle. */
export interface BenchSummary {
  workload: { name: string; description: string; seed?: string; file: string }
  environment: BenchEnvironment
  finishedAt: string | null
  interrupted: boolean
  points: string[]
}
