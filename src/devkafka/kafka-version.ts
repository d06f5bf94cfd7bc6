import { DevKafkaError } from './errors.ts'

/**
 * The Apache Kafka release the local broker runs. 4.3.1 is the newest 4.x release whose
 * artifacts are complete on Maven Central (4.4.0's kafka_2.13 is published, but its
 * kafka-tools and kafka-tools-api are not, so it cannot be resolved whole).
 */
export const DEFAULT_KAFKA_VERSION = '4.3.1'

const VERSION_PATTERN = /^4\.\d+\.\d+$/

/** The version to run: `MULTILANE_KAFKA_VERSION` when set (a 4.x release), else the pinned one. */
export function kafkaVersion(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.MULTILANE_KAFKA_VERSION?.trim()
  if (!wanted) return DEFAULT_KAFKA_VERSION
  if (!VERSION_PATTERN.test(wanted)) {
    throw new DevKafkaError(
      'INVALID_KAFKA_VERSION',
      `MULTILANE_KAFKA_VERSION must be an Apache Kafka 4.x release such as 4.3.1 (share groups need ≥ 4.2.1); got "${wanted}"`,
    )
  }
  return wanted
}
