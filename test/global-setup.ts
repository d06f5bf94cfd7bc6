// Started once per `npm test` run (node --test --test-global-setup): one broker for every test
// file. With KAFKA_BOOTSTRAP_SERVERS set the tests use that cluster instead. A broker that was
// already running (e.g. `multilane kafka start`) is reused and left running afterwards.

import { startLocalKafka, stopLocalKafka } from '../src/devkafka/local-broker.ts'
import { BOOTSTRAP_ENV } from '../src/kafka/bootstrap.ts'

let startedHere = false

export async function globalSetup(): Promise<void> {
  if (process.env[BOOTSTRAP_ENV]) return
  const result = await startLocalKafka({ onProgress: (m) => process.stderr.write(`test setup: ${m}\n`) })
  startedHere = !result.reused
  // Test files run in child processes that inherit this environment.
  process.env[BOOTSTRAP_ENV] = result.state.bootstrap
  process.stderr.write(
    `test setup: Apache Kafka ${result.state.version} at ${result.state.bootstrap} ` +
      `(${result.reused ? 'reused' : `started, ${JSON.stringify(result.timings)}`})\n`,
  )
}

export async function globalTeardown(): Promise<void> {
  if (startedHere) await stopLocalKafka()
}
