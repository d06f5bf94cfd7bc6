// The Python interpreter with confluent-kafka (librdkafka) that interop tests use: a virtual
// environment .ci/run prepares (MULTILANE_TEST_PYTHON names another one).
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { cacheRoot } from '../../src/devkafka/paths.ts'

export const CONFLUENT_KAFKA_VERSION = '2.16.1'

/** The venv .ci/run creates: `python3 -m venv <this>` and `pip install confluent-kafka==2.16.1`. */
export function testVenv(): string {
  return join(cacheRoot(), 'python-venv')
}

/** A Python with confluent-kafka, or an error that says how to get one. */
export function pythonWithConfluentKafka(): string {
  const python = process.env.MULTILANE_TEST_PYTHON ?? join(testVenv(), 'bin', 'python')
  const probe = spawnSync(python, ['-c', 'import confluent_kafka; print(confluent_kafka.version())'], {
    encoding: 'utf8',
  })
  if (probe.status !== 0) {
    throw new Error(
      `no Python with confluent-kafka at ${python}: run \`python3 -m venv ${testVenv()} && ${testVenv()}/bin/pip install confluent-kafka==${CONFLUENT_KAFKA_VERSION}\` (.ci/run does), or set MULTILANE_TEST_PYTHON`,
    )
  }
  return python
}
