import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { DevKafkaError } from './errors.ts'

/** Oldest Java the Kafka 4.x broker runs on. */
export const MIN_JAVA_MAJOR = 17

/** The `java` found by `findJava`. */
export interface JavaRuntime {
  /** `$JAVA_HOME/bin/java`, or `java` from the PATH. */
  executable: string
  /** The JDK's keytool next to it (creates the dev broker's TLS certificate). */
  keytool: string
  /** Major version (17, 21, …). */
  major: number
  /** The first line of `java -version`. */
  versionLine: string
}

/** Finds `java` (JAVA_HOME first, then PATH) and checks that it is new enough. */
export function findJava(env: NodeJS.ProcessEnv = process.env): JavaRuntime {
  const executable = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java'
  const probe = spawnSync(executable, ['-version'], { encoding: 'utf8', env })
  if (probe.error || probe.status !== 0) {
    throw new DevKafkaError(
      'JAVA_MISSING',
      `Java ${MIN_JAVA_MAJOR} or newer is needed to run the local Kafka broker, but "${executable}" could not be run. ` +
        'Install a JDK (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME, ' +
        'or point multilane at an existing cluster with KAFKA_BOOTSTRAP_SERVERS.',
    )
  }
  // `java -version` prints to stderr: openjdk version "17.0.15" 2025-04-15 (or "1.8.0_392" on Java 8).
  const versionLine = (probe.stderr || probe.stdout).split('\n')[0] ?? ''
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionLine)
  const first = Number(match?.[1] ?? 0)
  const major = first === 1 ? Number(match?.[2] ?? 0) : first
  if (major < MIN_JAVA_MAJOR) {
    throw new DevKafkaError(
      'JAVA_TOO_OLD',
      `The local Kafka broker needs Java ${MIN_JAVA_MAJOR} or newer; "${executable}" is ${versionLine.trim() || 'unknown'}. ` +
        'Install a newer JDK or set JAVA_HOME to one.',
    )
  }
  const keytool = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'keytool') : 'keytool'
  return { executable, keytool, major, versionLine: versionLine.trim() }
}
