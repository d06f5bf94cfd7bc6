// The cluster the benchmark runs against: KAFKA_BOOTSTRAP_SERVERS when set, else the local
// development broker (started if it is not running yet).
import { startLocalKafka } from '../../src/devkafka/local-broker.ts'
import { BOOTSTRAP_ENV, formatBootstrap, parseBootstrap } from '../../src/kafka/bootstrap.ts'

export interface BenchBroker {
  /** `host:port` entries. */
  bootstrap: string[]
  source: 'env' | 'local'
}

export async function ensureBroker(log: (line: string) => void): Promise<BenchBroker> {
  const fromEnv = process.env[BOOTSTRAP_ENV]?.trim()
  if (fromEnv) {
    const bootstrap = formatBootstrap(parseBootstrap(fromEnv, BOOTSTRAP_ENV)).split(',')
    log(`using ${BOOTSTRAP_ENV}=${bootstrap.join(',')}`)
    return { bootstrap, source: 'env' }
  }
  const started = await startLocalKafka({ onProgress: (message) => log(`local broker: ${message}`) })
  log(
    `${started.reused ? 'reusing' : 'started'} local Apache Kafka ${started.state.version} at ${started.state.bootstrap}`,
  )
  return { bootstrap: started.state.bootstrap.split(','), source: 'local' }
}
