// The cluster the benchmark runs against: KAFKA_BOOTSTRAP_SERVERS when set, else the local
// development broker (started if it is not running yet).
import { startLocalKafka } from '../../src/index.ts'

export const BOOTSTRAP_ENV = 'KAFKA_BOOTSTRAP_SERVERS'

export interface BenchBroker {
  /** `host:port` entries. */
  bootstrap: string[]
  source: 'env' | 'local'
}

/** `host:port[,host:port…]` as a list; an entry without a host and a numeric port is refused. */
export function parseBootstrapList(text: string, source: string): string[] {
  const entries = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (entries.length === 0) throw new Error(`${source} is empty: expected host:port[,host:port…]`)
  for (const entry of entries) {
    const port = Number(entry.slice(entry.lastIndexOf(':') + 1))
    if (!/^.+:\d+$/.test(entry) || !(port >= 1 && port <= 65535))
      throw new Error(`${source}: "${entry}" is not host:port (port 1–65535)`)
  }
  return entries
}

export async function ensureBroker(log: (line: string) => void): Promise<BenchBroker> {
  const fromEnv = process.env[BOOTSTRAP_ENV]?.trim()
  if (fromEnv) {
    const bootstrap = parseBootstrapList(fromEnv, BOOTSTRAP_ENV)
    log(`using ${BOOTSTRAP_ENV}=${bootstrap.join(',')}`)
    return { bootstrap, source: 'env' }
  }
  const started = await startLocalKafka({ onProgress: (message) => log(`local broker: ${message}`) })
  log(
    `${started.reused ? 'reusing' : 'started'} local Apache Kafka ${started.state.version} at ${started.state.bootstrap}`,
  )
  return { bootstrap: started.state.bootstrap.split(','), source: 'local' }
}
