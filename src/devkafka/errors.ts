import { MultilaneError } from '../errors.ts'
/** Error codes of the local-broker launcher; each message names the fix. */
export type DevKafkaErrorCode =
  | 'JAVA_MISSING'
  | 'JAVA_TOO_OLD'
  | 'MAVEN_MISSING'
  | 'KAFKA_HOME_INVALID'
  | 'JAR_RESOLUTION_FAILED'
  | 'PORT_IN_USE'
  | 'BROKER_EXITED'
  | 'BROKER_START_TIMEOUT'
  | 'SHARE_GROUPS_UNAVAILABLE'
  | 'ALREADY_RUNNING_ELSEWHERE'
  | 'STOP_FAILED'
  | 'INVALID_KAFKA_VERSION'
  | 'NOT_RUNNING'
  | 'INVALID_NODE_ID'
  | 'CLUSTER_ID_MISSING'
  | 'LOCKED'
  | 'NOTHING_TO_RESTART'
  | 'BROKER_UNTRACKED'
  | 'NODE_ALREADY_RUNNING'
  | 'NODE_STOPPED'
  | 'INVALID_BROKER_COUNT'

/** A failure of `multilane kafka start|stop|status` or of the test harness' broker. */
export class DevKafkaError extends MultilaneError<DevKafkaErrorCode> {}
