import { MultilaneError } from '../errors.ts'

/** One `host:port` entry of a bootstrap list. */
export interface BrokerAddress {
  host: string
  port: number
}

/** The environment variable every multilane command and test reads for an external cluster. */
export const BOOTSTRAP_ENV = 'KAFKA_BOOTSTRAP_SERVERS'

/**
 * Parses `host:port[,host:port…]` (IPv6 as `[::1]:9092`). Throws INVALID_BOOTSTRAP naming `source`
 * (a flag or variable name) and the offending entry.
 */
export function parseBootstrap(value: string | readonly string[], source = 'bootstrap'): BrokerAddress[] {
  const entries = (typeof value === 'string' ? value.split(',') : [...value])
    .map((e) => e.trim())
    .filter(Boolean)
  if (entries.length === 0)
    throw new MultilaneError('INVALID_BOOTSTRAP', `${source}: expected at least one host:port, got nothing`)
  return entries.map((entry) => {
    const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry)
    const port = Number(match?.[2])
    if (!match || port < 1 || port > 65535) {
      throw new MultilaneError('INVALID_BOOTSTRAP', `${source}: "${entry}" is not host:port (port 1-65535)`)
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port }
  })
}

/** Formats addresses back to the `host:port,…` form. */
export function formatBootstrap(addresses: readonly BrokerAddress[]): string {
  return addresses
    .map((a) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`))
    .join(',')
}
