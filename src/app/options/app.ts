/** `createApp(options)`: process-wide settings. */
import { z } from 'zod'
import { keepV8DefaultsProblem } from '../../engine/v8-buffer-gc.ts'
import { SHOWS_INPUT } from '../configuration-error.ts'
import type { AppSettings } from '../definition.ts'
import { type KafkaOptions, kafkaContract } from './kafka.ts'
import { integerAtLeast, isObject, oneOf, options } from './rules.ts'
import { type TracingOptions, tracingContract } from './tracing.ts'

type LogMethod = (objOrMsg: unknown, msg?: string, ...args: unknown[]) => void

/** Any pino-compatible logger. */
export interface AppLogger {
  info: LogMethod
  warn: LogMethod
  error: LogMethod
  debug: LogMethod
  child(bindings: Record<string, unknown>): AppLogger
}

/** What users pass to `createApp`. */
export interface AppOptions {
  kafka?: KafkaOptions
  /**
   * The consumer groups' protocol (a group's own `groupProtocol` overrides it): `'consumer'`
   * (KIP-848, Kafka ≥ 4.0), `'classic'` (JoinGroup/SyncGroup, e.g. Kafka 3.9), or `'auto'`
   * (default): KIP-848 where the cluster offers it, else classic. See docs/classic-protocol.md.
   */
  groupProtocol?: 'auto' | 'consumer' | 'classic'
  /** How long a graceful shutdown waits for in-flight records (default 30000). */
  shutdownTimeoutMs?: number
  /** Interval of `statistics.emitted` events; 0 disables them (default 5000). */
  statisticsIntervalMs?: number
  /**
   * A pino-compatible logger, `false` for none, or `'pretty'` for multilane's own logger with
   * one readable line per entry (development). Default: multilane's own pino logger, JSON lines
   * (`MULTILANE_LOG=pretty` makes it readable lines; `MULTILANE_LOG_LEVEL` sets its level).
   */
  logger?: AppLogger | false | 'pretty'
  /** OpenTelemetry spans per handled record (default `{ enabled: 'auto' }`); see docs/tracing.md. */
  tracing?: TracingOptions
  /** How `app.health()` (and `multilane run --http-port`'s `/readyz`) judges readiness. */
  health?: HealthOptions
}

/** `createApp({ health })`: see docs/operations.md. */
export interface HealthOptions {
  /**
   * A partition whose oldest record has been in flight (taken and not finished: running,
   * retrying, or queued behind one) longer than this is stuck: not ready (default 300000, 5 min).
   */
  stuckAfterMs?: number
  /**
   * Whether a member with no partitions is not ready (default true). Set false where spare
   * members (more members than partitions) are normal and must pass readiness probes.
   */
  requireAssignment?: boolean
}

/** The validated app options: the definition's settings plus the logger, which is not part of it. */
export interface ResolvedAppOptions extends AppSettings {
  logger?: AppLogger | false | 'pretty'
}

export const APP_DEFAULTS = Object.freeze({
  shutdownTimeoutMs: 30_000,
  statisticsIntervalMs: 5000,
  groupProtocol: 'auto' as const,
})

export const HEALTH_DEFAULTS = Object.freeze({ stuckAfterMs: 300_000, requireAssignment: true })

const LOGGER_METHODS = ['info', 'warn', 'error', 'debug', 'child'] as const

const logger = z.custom<AppLogger | false | 'pretty'>(
  (v) =>
    v === false || v === 'pretty' || (isObject(v) && LOGGER_METHODS.every((m) => typeof v[m] === 'function')),
  { error: `must be false, 'pretty' or a logger with ${LOGGER_METHODS.join(', ')} functions (e.g. pino)` },
)

export const appContract = options({
  kafka: kafkaContract.prefault({}),
  groupProtocol: oneOf(['auto', 'consumer', 'classic']).default(APP_DEFAULTS.groupProtocol),
  shutdownTimeoutMs: integerAtLeast(0).default(APP_DEFAULTS.shutdownTimeoutMs),
  statisticsIntervalMs: integerAtLeast(0).default(APP_DEFAULTS.statisticsIntervalMs),
  logger: logger.optional(),
  tracing: tracingContract.prefault({}),
  health: options({
    stuckAfterMs: integerAtLeast(1).default(HEALTH_DEFAULTS.stuckAfterMs),
    requireAssignment: z.boolean().default(HEALTH_DEFAULTS.requireAssignment),
  }).prefault({}),
}).superRefine((_, ctx) => {
  // Read by the engine's consumers when they start; checked here so a typo fails the definition.
  const problem = keepV8DefaultsProblem()
  if (problem) ctx.addIssue({ code: 'custom', message: problem, params: SHOWS_INPUT })
}) satisfies z.ZodType<ResolvedAppOptions, AppOptions>
