import { DevKafkaError } from './errors.ts'

/**
 * The Apache Kafka release the local broker runs: 4.4.0, the newest release (its jars,
 * kafka-tools included, resolve from Maven Central; share groups pass the launcher's probe, and
 * a fresh cluster finalizes `share.version` 2, the broker-side share-group DLQ of KIP-1191).
 * 4.3.x stays supported through `MULTILANE_KAFKA_VERSION`.
 */
export const DEFAULT_KAFKA_VERSION = '4.4.0'

/**
 * Releases the launcher runs: 4.x (KIP-848 consumer groups and share groups), and 3.9.x, the
 * last 3.x line, for the classic group protocol (JoinGroup/SyncGroup) most clusters still run.
 */
const VERSION_PATTERN = /^(4\.\d+|3\.9)\.\d+$/

/** The version to run: `MULTILANE_KAFKA_VERSION` when set (4.x or 3.9.x), else the pinned one. */
export function kafkaVersion(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.MULTILANE_KAFKA_VERSION?.trim()
  if (!wanted) return DEFAULT_KAFKA_VERSION
  checkKafkaVersion(wanted, 'MULTILANE_KAFKA_VERSION')
  return wanted
}

/** Throws INVALID_KAFKA_VERSION, naming `source` (a flag or variable), unless the launcher runs `version`. */
export function checkKafkaVersion(version: string, source: string): void {
  if (!VERSION_PATTERN.test(version)) {
    throw new DevKafkaError(
      'INVALID_KAFKA_VERSION',
      `${source} must be an Apache Kafka 4.x release such as ${DEFAULT_KAFKA_VERSION} (share groups need ≥ 4.2.1), ` +
        `or 3.9.x for the classic group protocol only; got "${version}"`,
    )
  }
}

/**
 * True when the local broker of `version` offers share groups and KIP-848 consumer groups
 * (4.x); a 3.9 broker is set up with the classic group protocol only, as most 3.x clusters run.
 */
export function hasModernGroups(version: string): boolean {
  return versionAtLeast(version, 4, 0)
}

/** True when `version` (`major.minor.patch…`) is at least `major.minor`. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map((part) => Number.parseInt(part, 10))
  return a > major || (a === major && b >= minor)
}

/**
 * The `share.version` a fresh cluster of `version` is formatted with: 2 from Kafka 4.4 (adds the
 * broker-side dead-letter queue of share groups, KIP-1191), else the release's default (1 on
 * 4.2 and 4.3).
 */
export function shareVersionFor(version: string): number | undefined {
  return versionAtLeast(version, 4, 4) ? 2 : undefined
}
