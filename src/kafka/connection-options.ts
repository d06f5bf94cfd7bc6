import type { ConnectionOptions as TlsOptions } from 'node:tls'
import type { ConnectionOptions, SASLOptions } from '@platformatic/kafka'
import { type BrokerAddress, parseBootstrap } from './bootstrap.ts'

/** SASL credentials. Passwords never appear in logs, errors or `describeConnection`. */
export interface SaslCredentials {
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
  username: string
  password: string
}

/** How multilane reaches a Kafka cluster. */
export interface KafkaConnectionOptions {
  /** `host:port` entries (or one comma-separated string). */
  bootstrap: string | readonly string[]
  /** Sent with every request; shows up in broker logs and quotas. */
  clientId: string
  sasl?: SaslCredentials
  /** `true` for TLS with the system CAs, or Node TLS options (ca, cert, key, servername…). */
  tls?: boolean | TlsOptions
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number
  /** TCP/TLS connect timeout (default 10 s). */
  connectTimeoutMs?: number
  /** How long an app's start retries while no broker is reachable (default 30 s; see waitForCluster). */
  startTimeoutMs?: number
}

/** Resolved form used by the engine. */
export interface ResolvedConnection {
  brokers: BrokerAddress[]
  clientId: string
  requestTimeoutMs: number
  options: ConnectionOptions
}

export function resolveConnection(options: KafkaConnectionOptions): ResolvedConnection {
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
  const connection: ConnectionOptions = {
    requestTimeout: requestTimeoutMs,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    // Several requests (fetch, commit) may be outstanding on one connection.
    maxInflights: 16,
  }
  if (options.tls) connection.tls = options.tls === true ? {} : options.tls
  if (options.sasl) {
    const sasl: SASLOptions = {
      mechanism: options.sasl.mechanism,
      username: options.sasl.username,
      password: options.sasl.password,
    }
    connection.sasl = sasl
  }
  return {
    brokers: parseBootstrap(options.bootstrap, 'bootstrap'),
    clientId: options.clientId,
    requestTimeoutMs,
    options: connection,
  }
}

/** A loggable description of a connection: never includes credentials. */
export function describeConnection(options: KafkaConnectionOptions): Record<string, unknown> {
  return {
    bootstrap: options.bootstrap,
    clientId: options.clientId,
    tls: Boolean(options.tls),
    sasl: options.sasl ? { mechanism: options.sasl.mechanism, username: options.sasl.username } : undefined,
  }
}
