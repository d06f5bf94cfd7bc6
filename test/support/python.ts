// The Python interpreter with confluent-kafka (librdkafka) that interop tests use: a virtual
// environment the global test setup creates (test/support/prerequisites.ts) in the cache, or
// where MULTILANE_TEST_VENV says; MULTILANE_TEST_PYTHON names another interpreter instead.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { cacheRoot } from '../../src/devkafka/paths.ts'

export const CONFLUENT_KAFKA_VERSION = '2.16.1'

/** The venv the global setup creates: `MULTILANE_TEST_VENV`, else `<cache>/python-venv`. */
export function testVenv(env: NodeJS.ProcessEnv = process.env): string {
  return env.MULTILANE_TEST_VENV || join(cacheRoot(env), 'python-venv')
}

/** A Python with confluent-kafka, or an error that says how to get one. */
export function pythonWithConfluentKafka(): string {
  const python = process.env.MULTILANE_TEST_PYTHON ?? join(testVenv(), 'bin', 'python')
  const probe = spawnSync(python, ['-c', 'import confluent_kafka; print(confluent_kafka.version())'], {
    encoding: 'utf8',
  })
  if (probe.status !== 0) {
    throw new Error(
      `no Python with confluent-kafka at ${python}: run \`python3 -m venv ${testVenv()} && ${testVenv()}/bin/pip install confluent-kafka==${CONFLUENT_KAFKA_VERSION}\` (the global test setup does), or set MULTILANE_TEST_PYTHON`,
    )
  }
  return python
}
