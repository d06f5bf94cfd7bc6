// Started once per `npm test` run (node --test --test-global-setup): one broker for every test
// file, owned by this run: a fresh directory of its own, the expected Kafka version
// (MULTILANE_KAFKA_VERSION, else the pinned one), stopped at the end. A broker someone started
// with `multilane kafka start` is never used or touched. Before that: the programs and the Python
// venv the tests need (test/support/prerequisites.ts). With KAFKA_BOOTSTRAP_SERVERS set the
// tests use that cluster instead and nothing is started.
import { kafkaVersion } from '../src/devkafka/kafka-version.ts'
import { BOOTSTRAP_ENV } from '../src/kafka/bootstrap.ts'
import { checkSystemPrograms, ensurePythonVenv } from './support/prerequisites.ts'
import { type PrivateBroker, SUITE_BROKER_DIR_ENV, startPrivateBroker } from './support/private-broker.ts'

let broker: PrivateBroker | undefined

export async function globalSetup(): Promise<void> {
  const log = (m: string) => process.stderr.write(`test setup: ${m}\n`)
  // What a fresh clone lacks after `npm ci`: made here, or a stop before any test saying what to install.
  checkSystemPrograms()
  if (!process.env.MULTILANE_TEST_PYTHON) ensurePythonVenv({ onProgress: log })
  if (process.env[BOOTSTRAP_ENV]) {
    log(`using the cluster at ${process.env[BOOTSTRAP_ENV]} (${BOOTSTRAP_ENV}); no broker is started`)
    return
  }
  const expected = kafkaVersion()
  broker = await startPrivateBroker({ onProgress: log })
  const { state } = broker
  if (!process.env.KAFKA_HOME && state.version !== expected) {
    await broker.stop()
    throw new Error(`test setup: expected Apache Kafka ${expected}, the broker runs ${state.version}`)
  }
  // Test files run in child processes that inherit this environment. Launcher calls that name
  // no directory of their own land in the run's, never in the user's default one.
  process.env[BOOTSTRAP_ENV] = state.bootstrap
  process.env.MULTILANE_BROKER_DIR = broker.dir
  process.env[SUITE_BROKER_DIR_ENV] = broker.dir
  log(
    `Apache Kafka ${state.version} at ${state.bootstrap}, owned by this run (${broker.dir}; ` +
      `features ${JSON.stringify(state.features)})`,
  )
}

export async function globalTeardown(): Promise<void> {
  await broker?.stop()
}
