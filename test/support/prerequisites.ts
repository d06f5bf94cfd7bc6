// What the test suite needs beyond `npm ci`, checked (or made) by the global setup before any
// test runs, so `npm ci && npm test` on a fresh machine either works or stops at once saying
// what to install: the Python venv with confluent-kafka is created here; system programs
// (Java, Maven, kcat, python3 with venv) are only checked, each error naming the tests that
// need it and the install command.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { findJava } from '../../src/devkafka/java-runtime.ts'
import { CONFLUENT_KAFKA_VERSION, testVenv } from './python.ts'

/** A program a test needs that this machine lacks: the message says which test and how to install it. */
export class MissingPrerequisiteError extends Error {
  override name = 'MissingPrerequisiteError'
}

function runs(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const probe = spawnSync(command, args, { encoding: 'utf8', env })
  return !probe.error && probe.status === 0
}

/** True when `python` imports confluent_kafka at the pinned version. */
function hasConfluentKafka(python: string): boolean {
  const probe = spawnSync(python, ['-c', 'import confluent_kafka; print(confluent_kafka.__version__)'], {
    encoding: 'utf8',
  })
  return probe.status === 0 && probe.stdout.trim() === CONFLUENT_KAFKA_VERSION
}

export interface VenvOptions {
  /** The venv's directory; default: the one the tests use (`testVenv()`). */
  venv?: string
  /** The interpreter that creates it; default `python3`. */
  python3?: string
  onProgress?: (message: string) => void
}

/**
 * Makes the venv with confluent-kafka that the Python interop test uses, once: `python3 -m venv`
 * and `pip install confluent-kafka==<pinned>`, in a staging directory renamed into place (an
 * interrupted install never looks done; concurrent runs do not collide). Returns the venv's
 * python. Throws MissingPrerequisiteError when python3 or its venv module is missing.
 */
export function ensurePythonVenv(options: VenvOptions = {}): string {
  const venv = options.venv ?? testVenv()
  const python = join(venv, 'bin', 'python')
  if (hasConfluentKafka(python)) return python
  const python3 = options.python3 ?? 'python3'
  const needed =
    'python3 with its venv module is needed by test/integration/interop/python-commit-metadata.test.ts'
  if (!runs(python3, ['--version'])) {
    throw new MissingPrerequisiteError(`${needed}: apt-get install python3 python3-venv`)
  }
  if (!runs(python3, ['-c', 'import venv, ensurepip'])) {
    throw new MissingPrerequisiteError(
      `${needed}; "${python3}" has no venv/ensurepip: apt-get install python3-venv`,
    )
  }
  options.onProgress?.(
    `creating the Python venv ${venv} with confluent-kafka ${CONFLUENT_KAFKA_VERSION} (once)`,
  )
  mkdirSync(dirname(venv), { recursive: true })
  const staging = `${venv}.partial-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  try {
    const made = spawnSync(python3, ['-m', 'venv', staging], { encoding: 'utf8' })
    if (made.status !== 0) {
      throw new MissingPrerequisiteError(
        `${needed}; \`${python3} -m venv ${staging}\` failed (apt-get install python3-venv): ${made.stderr.trim()}`,
      )
    }
    // `python -m pip`, not bin/pip: the venv's scripts name the staging path in their first line.
    const pip = spawnSync(
      join(staging, 'bin', 'python'),
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        `confluent-kafka==${CONFLUENT_KAFKA_VERSION}`,
      ],
      { encoding: 'utf8' },
    )
    if (pip.status !== 0) {
      throw new MissingPrerequisiteError(
        `pip could not install confluent-kafka==${CONFLUENT_KAFKA_VERSION} into ${staging} (needs network access to PyPI): ${pip.stderr.trim()}`,
      )
    }
    // A leftover venv without the package (or of another version) is replaced.
    if (existsSync(venv) && !hasConfluentKafka(python)) rmSync(venv, { recursive: true, force: true })
    try {
      renameSync(staging, venv)
    } catch (error) {
      // Another run finished first: its venv is as good as ours.
      if (!hasConfluentKafka(python)) throw error
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  if (!hasConfluentKafka(python)) {
    throw new MissingPrerequisiteError(
      `the venv at ${venv} was created but ${python} cannot import confluent_kafka`,
    )
  }
  return python
}

/** Where the browser test expects Debian's Chromium. */
const CHROMIUM = '/usr/bin/chromium'

/**
 * The system programs tests run: each missing one is a MissingPrerequisiteError naming the
 * tests that need it and the install command (all missing ones in one message).
 */
export function checkSystemPrograms(env: NodeJS.ProcessEnv = process.env): void {
  const missing: string[] = []
  try {
    findJava(env)
  } catch (error) {
    missing.push(
      `Java >= 17 with keytool is needed by the tests that start brokers of their own (test/integration/launcher/, local-broker, cli, segments/run-*): apt-get install openjdk-17-jre-headless (${(error as Error).message})`,
    )
  }
  if (!env.KAFKA_HOME && !runs('mvn', ['-v'], env)) {
    missing.push(
      'Maven is needed to fetch the Kafka jars for the tests that start brokers (once, into the cache): apt-get install maven (or set KAFKA_HOME to an unpacked Kafka distribution)',
    )
  }
  if (!runs('kcat', ['-V'], env)) {
    missing.push(
      'kcat is needed by test/integration/interop/kcat-interop.test.ts, test/integration/engine/leaderless.test.ts and the benchmark smoke test: apt-get install kcat',
    )
  }
  if (!existsSync(CHROMIUM)) {
    missing.push(
      `Chromium (${CHROMIUM}) is needed by test/integration/bench/report-browser.test.ts (the bench report in a headless browser): apt-get update && apt-get install -y chromium`,
    )
  }
  if (missing.length > 0) throw new MissingPrerequisiteError(missing.join('\n'))
}
