import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DevKafkaError } from './errors.ts'
import { writeFileAtomic } from './files.ts'
import { jarCacheDir } from './paths.ts'

export interface KafkaJars {
  /** Java classpath (a directory wildcard). */
  classpath: string
  /** The Apache Kafka release of the jars (`KAFKA_HOME`'s own when that is set). */
  version: string
  /** Where they came from: `KAFKA_HOME/libs`, the per-version cache, or Maven Central just now. */
  source: 'kafka-home' | 'cache' | 'maven'
}

const COMPLETE_MARKER = '.complete'

/** The pom.xml shipped beside this module (or in `src/devkafka` when running from `dist`). */
function pomPath(): string {
  const here = import.meta.dirname
  const candidates = [join(here, 'pom.xml'), join(here, '..', '..', 'src', 'devkafka', 'pom.xml')]
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new DevKafkaError('JAR_RESOLUTION_FAILED', `pom.xml not found next to ${here}`)
  return found
}

/**
 * Finds the jars of the broker: `KAFKA_HOME/libs` when set, else the per-version cache, else
 * resolves them from Maven Central with `mvn` into the cache (so a second start never touches
 * the network).
 */
export function resolveKafkaJars(version: string, env: NodeJS.ProcessEnv = process.env): KafkaJars {
  if (env.KAFKA_HOME) {
    const libs = join(env.KAFKA_HOME, 'libs')
    const jars = existsSync(libs) ? readdirSync(libs) : []
    const core = jars.find((j) => /^kafka_2\.13-.+\.jar$/.test(j))
    if (!core) {
      throw new DevKafkaError(
        'KAFKA_HOME_INVALID',
        `KAFKA_HOME=${env.KAFKA_HOME} has no libs/kafka_2.13-*.jar; point it at an unpacked Apache Kafka distribution or unset it.`,
      )
    }
    const homeVersion = core.replace(/^kafka_2\.13-/, '').replace(/\.jar$/, '')
    return { classpath: join(libs, '*'), version: homeVersion, source: 'kafka-home' }
  }

  const cache = jarCacheDir(version, env)
  const libs = join(cache, 'libs')
  // `libs` only ever appears whole (renamed from a complete staging directory), so it is
  // complete even when the marker is missing (another process renamed it an instant ago).
  if (existsSync(join(cache, COMPLETE_MARKER)) || existsSync(libs))
    return { classpath: join(libs, '*'), version, source: 'cache' }

  const mvn = spawnSync('mvn', ['-v'], { encoding: 'utf8', env })
  if (mvn.error || mvn.status !== 0) {
    throw new DevKafkaError(
      'MAVEN_MISSING',
      `Apache Kafka ${version} is not in the cache (${cache}) and Maven ("mvn") is not available to fetch it. ` +
        'Install Maven (e.g. `apt-get install maven`), or set KAFKA_HOME to an unpacked Kafka distribution.',
    )
  }
  // Resolve into a directory of this process's own and rename it into place: an interrupted
  // download never looks complete, and a concurrent start never deletes jars in use.
  mkdirSync(cache, { recursive: true })
  removeAbandonedStaging(cache)
  const staging = mkdtempSync(join(cache, `libs.partial-${process.pid}-`))
  const result = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      pomPath(),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-Dkafka.version=${version}`,
      `-DoutputDirectory=${staging}`,
    ],
    { encoding: 'utf8', env },
  )
  if (result.status !== 0) {
    rmSync(staging, { recursive: true, force: true })
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n')
    throw new DevKafkaError(
      'JAR_RESOLUTION_FAILED',
      `Maven could not resolve Apache Kafka ${version} from Maven Central:\n${output}\n` +
        'Check the version (MULTILANE_KAFKA_VERSION) and network access to Maven Central, or set KAFKA_HOME.',
    )
  }
  try {
    renameSync(staging, libs)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
    rmSync(staging, { recursive: true, force: true }) // another process finished first: use its jars
  }
  writeFileAtomic(join(cache, COMPLETE_MARKER), `${new Date().toISOString()}\n`)
  return { classpath: join(libs, '*'), version, source: 'maven' }
}

/** Deletes staging directories whose process died mid-resolution. */
function removeAbandonedStaging(cache: string): void {
  for (const entry of readdirSync(cache)) {
    const pid = Number(/^libs\.partial-(\d+)-/.exec(entry)?.[1])
    if (!pid) continue
    try {
      process.kill(pid, 0)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH')
        rmSync(join(cache, entry), { recursive: true, force: true })
    }
  }
}
