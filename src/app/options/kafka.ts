/** `createApp({ kafka })`: how to reach the cluster. */
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { z } from 'zod'
import { BOOTSTRAP_ENV, parseBootstrap } from '../../kafka/bootstrap.ts'
import type { KafkaConnectionOptions, SaslCredentials } from '../../kafka/connection-options.ts'
import { SHOWS_INPUT } from '../configuration-error.ts'
import { integerAtLeast, isObject, nonEmptyString, oneOf, options } from './rules.ts'

/** What users write under `kafka`. */
export interface KafkaOptions {
  /** `host:port` entries, or one comma-separated string. Default: `$KAFKA_BOOTSTRAP_SERVERS`, else `127.0.0.1:9092`. */
  bootstrap?: string | readonly string[]
  /** Default `'multilane'`. */
  clientId?: string
  sasl?: SaslCredentials
  /** `true` for TLS with the system CAs, or Node TLS options. */
  tls?: boolean | TlsOptions
  /** Per-request timeout; the connection applies 30000 when unset. */
  requestTimeoutMs?: number
  /** TCP/TLS connect timeout; the connection applies 10000 when unset. */
  connectTimeoutMs?: number
  /**
   * How long the app's start keeps retrying (with backoff, each attempt logged) while no broker
   * is reachable, before it fails with NO_BROKER_REACHABLE. Default 30000; 0: one attempt.
   */
  startTimeoutMs?: number
}

export const KAFKA_DEFAULTS = Object.freeze({
  clientId: 'multilane',
  /** Used when neither `bootstrap` nor `$KAFKA_BOOTSTRAP_SERVERS` is set: the local dev broker. */
  bootstrap: '127.0.0.1:9092',
})

const BOOTSTRAP_TYPE_RULE = 'must be a "host:port[,host:port…]" string or an array of "host:port" strings'

/** parseBootstrap's own message, without its source prefix (the issue path names the field). */
function bootstrapProblem(value: string | readonly string[], source: string): string | undefined {
  try {
    parseBootstrap(value, source)
    return undefined
  } catch (error) {
    return (error as Error).message.replace(`${source}: `, '')
  }
}

const bootstrap = z.custom<string | readonly string[]>().superRefine((value, ctx) => {
  if (!(typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string')))) {
    ctx.addIssue({ code: 'custom', message: BOOTSTRAP_TYPE_RULE })
    return
  }
  const problem = bootstrapProblem(value, 'bootstrap')
  if (problem) ctx.addIssue({ code: 'custom', message: problem, params: SHOWS_INPUT })
})

const sasl = options({
  mechanism: oneOf(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
  username: nonEmptyString(),
  // Its value is never printed: the error helper redacts everything under `sasl` but the mechanism and username.
  password: nonEmptyString(),
})

const tls = z.custom<boolean | TlsOptions>((v) => typeof v === 'boolean' || isObject(v), {
  error: 'must be true, false or Node TLS options (an object)',
})

/** The `kafka` contract; output is the connection the engine uses. */
export const kafkaContract = options({
  bootstrap: bootstrap.optional(),
  clientId: nonEmptyString().default(KAFKA_DEFAULTS.clientId),
  sasl: sasl.optional(),
  tls: tls.optional(),
  requestTimeoutMs: integerAtLeast(1).optional(),
  connectTimeoutMs: integerAtLeast(1).optional(),
  startTimeoutMs: integerAtLeast(0).optional(),
}).transform((kafka, ctx): KafkaConnectionOptions => {
  if (kafka.bootstrap !== undefined) return { ...kafka, bootstrap: kafka.bootstrap }
  // Read at definition time (not import time) so the process environment of `run` applies.
  const fromEnv = process.env[BOOTSTRAP_ENV]?.trim()
  if (!fromEnv) return { ...kafka, bootstrap: KAFKA_DEFAULTS.bootstrap }
  const problem = bootstrapProblem(fromEnv, BOOTSTRAP_ENV)
  if (problem) {
    ctx.addIssue({
      code: 'custom',
      path: ['bootstrap'],
      message: `not set, and $${BOOTSTRAP_ENV} is invalid: ${problem}`,
      params: SHOWS_INPUT,
    })
    return z.NEVER
  }
  return { ...kafka, bootstrap: fromEnv }
}) satisfies z.ZodType<KafkaConnectionOptions, KafkaOptions>
