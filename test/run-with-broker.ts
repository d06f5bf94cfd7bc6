// Runs chosen test files against a broker of another Kafka version that this run starts in a
// private directory and stops at the end, e.g. the share-group tests against 4.3.x:
//   npm run test:kafka-version -- --kafka 4.3.1 test/integration/broker-features.test.ts …
// Exit code: the test run's (1 for bad arguments or a broker that does not start).
import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { parseArgs } from 'node:util'
import { kafkaVersion } from '../src/devkafka/kafka-version.ts'
import { SUITE_BROKER_DIR_ENV, startPrivateBroker } from './support/private-broker.ts'

const usage = 'usage: node test/run-with-broker.ts --kafka <4.x.y> [--concurrency <n>] <test files…>'
const { values, positionals } = parseArgs({
  options: { kafka: { type: 'string' }, concurrency: { type: 'string', default: '3' } },
  allowPositionals: true,
})
if (!values.kafka || positionals.length === 0 || !/^\d+$/.test(values.concurrency)) {
  process.stderr.write(`${usage}\n`)
  process.exit(2)
}
const version = kafkaVersion({ MULTILANE_KAFKA_VERSION: values.kafka }) // checks the form
const log = (m: string) => process.stderr.write(`run-with-broker: ${m}\n`)
const broker = await startPrivateBroker({ version, onProgress: log })
log(
  `Apache Kafka ${broker.state.version} at ${broker.state.bootstrap} (${broker.dir}; features ${JSON.stringify(broker.state.features)})`,
)
const child = spawn(
  process.execPath,
  ['--test', `--test-concurrency=${values.concurrency}`, '--test-timeout=300000', ...positionals],
  { stdio: 'inherit', env: { ...broker.env, [SUITE_BROKER_DIR_ENV]: broker.dir } },
)
const forward = (signal: NodeJS.Signals) => child.kill(signal)
process.on('SIGINT', forward)
process.on('SIGTERM', forward)
const code = await new Promise<number>((resolve) =>
  child.once('exit', (status, signal) => resolve(status ?? 128 + (signal ? constants.signals[signal] : 0))),
)
await broker.stop()
log(`stopped Apache Kafka ${broker.state.version}; tests exited ${code}`)
process.exit(code)
