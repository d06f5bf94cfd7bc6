/** `createApp(options)`: process-wide settings. */
import { z } from 'zod'
import type { AppSettings } from '../definition.ts'
import { type KafkaOptions, kafkaContract } from './kafka.ts'
import { integerAtLeast, isObject, options } from './rules.ts'
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
  /** How long a graceful shutdown waits for in-flight records (default 30000). */
  shutdownTimeoutMs?: number
  /** Interval of `statistics.emitted` events; 0 disables them (default 5000). */
  statisticsIntervalMs?: number
  /** A pino-compatible logger, or false for none (default: multilane's own pino logger). */
  logger?: AppLogger | false
  /** OpenTelemetry spans per handled record (default `{ enabled: 'auto' }`); see docs/tracing.md. */
  tracing?: TracingOptions
}

/** The validated app options: the definition's settings plus the logger, which is not part of it. */
export interface ResolvedAppOptions extends AppSettings {
  logger?: AppLogger | false
}

export const APP_DEFAULTS = Object.freeze({ shutdownTimeoutMs: 30_000, statisticsIntervalMs: 5000 })

const LOGGER_METHODS = ['info', 'warn', 'error', 'debug', 'child'] as const

const logger = z.custom<AppLogger | false>(
  (v) => v === false || (isObject(v) && LOGGER_METHODS.every((m) => typeof v[m] === 'function')),
  { error: `must be false or a logger with ${LOGGER_METHODS.join(', ')} functions (e.g. pino)` },
)

export const appContract = options({
  kafka: kafkaContract.prefault({}),
  shutdownTimeoutMs: integerAtLeast(0).default(APP_DEFAULTS.shutdownTimeoutMs),
  statisticsIntervalMs: integerAtLeast(0).default(APP_DEFAULTS.statisticsIntervalMs),
  logger: logger.optional(),
  tracing: tracingContract.prefault({}),
}) satisfies z.ZodType<ResolvedAppOptions, AppOptions>
