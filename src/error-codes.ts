/**
 * Every `code` a multilane error can carry, with what it means: the one catalogue of error
 * codes. `MultilaneError` only accepts codes listed here, so a new code cannot be thrown
 * without being documented.
 */
export const ERROR_CODES = {
  // Definition and configuration
  INVALID_CONFIGURATION:
    'The app definition breaks an option rule (ConfigurationError lists every issue with its location).',
  INVALID_BOOTSTRAP: 'A bootstrap list (option, flag or variable) is not host:port[,host:port…].',
  INVALID_METRICS_OPTIONS:
    'An option of instrumentPrometheus is invalid, or the registry already holds its metrics.',
  HTTP_PORT_IN_USE: "multilane run --http-port: the port (or a worker's port, P + 1 + worker) is taken.",
  INVALID_PLACEMENT: 'The segments given to start()/run() are not segments of the app.',
  INVALID_ENGINES: "package.json's engines.node is not of the form >=X.Y.Z.",
  UNSUPPORTED_NODE: 'The Node.js running multilane is older than it needs.',
  // App lifecycle
  APP_ALREADY_STARTED: 'The app was started (or run) before, or a group was defined after start.',
  NO_CONSUMER_GROUP: 'The app defines no group to run.',
  RUNTIME_STARTED: 'A processing runtime was started twice.',
  DEAD_LETTER_TOPIC_MISSING: 'A dead letter topic the app names does not exist (checked at start).',
  DEAD_LETTER_TIMEOUT: 'Producing to a dead letter topic did not finish within the request timeout.',
  // Cluster access and protocol
  NO_BROKER_REACHABLE: 'No broker of the bootstrap list answered.',
  AUTHENTICATION_FAILED: 'SASL authentication failed.',
  AUTHORIZATION_FAILED:
    'The broker refused an operation for lack of an ACL (names the principal, the resource and the operation it needs); not retried.',
  UNKNOWN_BROKER: 'A broker id is not in the metadata.',
  COORDINATOR_NOT_FOUND: "The group's coordinator could not be found.",
  UNSUPPORTED_API_VERSION:
    'The broker offers no version of an API that multilane implements (names both sides).',
  MALFORMED_RESPONSE: 'A broker response could not be decoded.',
  KAFKA_RESPONSE_ERROR: 'A broker response carried a Kafka error.',
  UNKNOWN_ERROR_CODE: 'A Kafka error code multilane does not know (a newer broker, or a corrupted response).',
  GROUP_CONFIG_FAILED: 'The broker refused to read or change a group config.',
  // Consumer group engine
  ENGINE_NOT_STARTED: 'The consumer was used before it joined.',
  ENGINE_CLOSED: 'The consumer is closed (or was closed before it joined).',
  MEMBERSHIP_FATAL: 'The coordinator refused the member for good (authorization, a fenced static member, …).',
  ASSIGNMENT_REFUSED:
    'The processing layer refused assigned partitions (e.g. a routing mismatch): the member stops.',
  COMMIT_FAILED: 'An offset commit failed after its retries.',
  COMMIT_TIMEOUT: 'A commit at shutdown did not finish in time.',
  SHUTDOWN_TIMEOUT:
    'Records still running at shutdownTimeoutMs were abandoned (they will be delivered again), or an onStop hook did not settle within it; the stop failed.',
  PARTITION_NOT_ASSIGNED: 'A partition operation named a partition this member does not own.',
  PARTITION_NOT_OWNED: 'ctx.commit() for a partition being revoked or lost.',
  OFFSET_RESET_FAILED: 'Committed offsets or reset positions could not be read.',
  OFFSET_OUT_OF_SAFE_RANGE: 'An offset above 2^53 − 1, which multilane does not support.',
  CONSUMER_PROTOCOL_MALFORMED:
    'A classic-protocol subscription or assignment (JoinGroup/SyncGroup metadata) is truncated or out of range.',
  UNKNOWN_ASSIGNOR: 'The classic group chose an assignment strategy multilane does not implement.',
  GROUP_PROTOCOL_UNAVAILABLE:
    "groupProtocol 'consumer' (KIP-848) on a broker without it (Kafka < 4.0, or group.version 0): the start fails naming the broker's feature level and the option.",
  INVALID_OPTION:
    'An engine option is invalid (GroupConsumer, ShareConsumer; MULTILANE_KEEP_V8_DEFAULTS too), or command-line options that do not fit together (run --http-port with --processes past port 65535).',
  // Processing
  DESERIALIZATION_FAILED: 'A deserializer failed; the record is retried like a handler failure.',
  RETRY_BACKOFF: 'A retry attempt number is not a positive integer (a bug).',
  OFFSET_TRACKER_ORDER: 'The offset tracker got offsets out of order (a bug).',
  OFFSET_TRACKER_UNKNOWN: 'The offset tracker was told of an offset it does not track (a bug).',
  OFFSET_TRACKER_INVALID: 'The offset tracker got an invalid offset (a bug).',
  OFFSET_MAP_ENCODE: 'An offset map could not be encoded (too many offsets; the map is left out).',
  OFFSET_MAP_DECODE: 'A committed offset map could not be decoded (it is ignored: replays, never loss).',
  COMMIT_METADATA: 'A value cannot be stored in the commit metadata envelope.',
  PROGRESS_MISMATCH: 'Progress was given an object or outcome it does not handle (a bug).',
  SEEK_UNSUPPORTED: 'ctx.seek() in a share group.',
  PAUSE_UNSUPPORTED: 'ctx.pause() or ctx.resume() in a share group.',
  INVALID_SEEK: 'ctx.seek() with an offset that is not a non-negative integer.',
  // Producing (app.producer, topics produce)
  PRODUCER_CLOSED: 'app.producer was used after the app stopped (the producer is closed with the app).',
  PRODUCE_TOPIC_NOT_FOUND: 'A produce named a topic that does not exist on the cluster (nothing was sent).',
  PRODUCE_TIMEOUT: 'A produce did not finish within the request timeout (the producer is replaced).',
  PRODUCE_FAILED: 'The broker (or the connection) refused a produce.',
  INVALID_PRODUCE_RECORD:
    'A record to produce is invalid (no topic, a value that is not a Buffer or string without a serializer, a bad input line).',
  // Parallel segments
  ROUTING_MISMATCH:
    "A segment's committed routing fingerprint differs from the app's routing (onMismatch: 'refuse').",
  CONSUMER_GROUP_NOT_FOUND:
    'segments commands: --groups names a group the app does not define with parallel segments; groups describe --app: the app does not define the group.',
  TOPIC_NOT_FOUND: 'segments commands: a topic of the group does not exist on the cluster.',
  OFFSETS_READ_FAILED:
    "segments and groups commands: a group's committed offsets (or the log's offsets) could not be read.",
  OFFSETS_WRITE_FAILED:
    'segments commands: the coordinator refused an offset write (e.g. UNKNOWN_MEMBER_ID: the group has members).',
  GROUP_DESCRIBE_FAILED:
    "segments and groups commands: a group's members (or the list of groups) could not be read.",
  RECORDS_READ_FAILED: 'segments collapse/check: reading the records of a range made no progress.',
  // Share groups
  CONSUMER_CLOSED: 'The share consumer is closed.',
  NOT_STARTED: 'The share consumer was used before it started.',
  SESSION_FATAL: 'A broker refused share fetching or acknowledging for good.',
  KAFKA_ERROR: 'A known Kafka error the share consumer recovers from by itself.',
  LOCK_LOST: "A record's acquisition lock is gone: it may be delivered again.",
  RENEW_UNSUPPORTED: 'Lock renewal needs Kafka ≥ 4.2 and share.renew.acknowledge.enable.',
  ALREADY_ACKNOWLEDGED: 'The record was already given a final acknowledgement.',
  ACKNOWLEDGE_FAILED: 'The broker kept refusing an acknowledgement with a retriable error.',
  LOCK_TOO_SHORT: "The share group's lock duration is too short for renewal to keep locks (a warning).",
  INVALID_SETTING: 'A share group setting is invalid.',
  GROUP_NOT_FOUND:
    'The group does not exist (share admin; groups describe: no members and no committed offsets).',
  DESCRIBE_FAILED: 'Describing a share group failed.',
  // Benchmark (multilane bench)
  INVALID_WORKLOAD:
    'A bench workload file breaks a rule (each issue names the field, the rule and the line).',
  BENCH_BUNDLE_INVALID: 'bench report/compare: the directory is not a readable result bundle.',
  BENCH_POINT_FAILED: 'bench run: a test point could not be set up or run (its cause is attached).',
  // Local broker and CLI
  JAVA_MISSING: 'No Java to run the local broker.',
  JAVA_TOO_OLD: 'The local broker needs Java 17 or newer.',
  MAVEN_MISSING: 'The Kafka jars are not cached and Maven is not there to fetch them.',
  KAFKA_HOME_INVALID: 'KAFKA_HOME is not an unpacked Kafka distribution.',
  JAR_RESOLUTION_FAILED: 'Maven could not resolve the Kafka jars.',
  INVALID_KAFKA_VERSION: 'MULTILANE_KAFKA_VERSION is not a Kafka 4.x release.',
  PORT_IN_USE: 'A port the local broker needs is taken.',
  BROKER_EXITED: 'The local broker (or a tool it runs) exited during start.',
  BROKER_START_TIMEOUT: 'The local broker did not answer in time.',
  SHARE_GROUPS_UNAVAILABLE: 'The local broker runs, but share groups cannot be used on it.',
  ALREADY_RUNNING_ELSEWHERE: 'A local broker already runs on another port.',
  STOP_FAILED: 'The local broker survived SIGKILL.',
  NOT_RUNNING: 'No local broker runs.',
  INVALID_NODE_ID: 'An added broker node id is invalid or taken.',
  CLUSTER_ID_MISSING: "The local cluster's id could not be read.",
  LOCKED: 'Another command holds the broker directory.',
  NOTHING_TO_RESTART: 'start --restart found no kept data.',
  BROKER_UNTRACKED: 'A broker of this directory runs without a record (an earlier start was killed).',
  NODE_ALREADY_RUNNING: 'kafka broker start: that node of the local cluster already runs.',
  NODE_STOPPED: 'A node of the local cluster is stopped (kafka broker stop); start it or stop the cluster.',
  INVALID_BROKER_COUNT:
    'The number of brokers asked for is not an integer from 1 to 9, or differs from the running cluster.',
  NO_BROKER: 'A command needs a broker and none was given or runs locally.',
  BROKER_UNREACHABLE: 'The broker a command was pointed at does not answer.',
  TOPIC_EXISTS: 'topics create: the topic exists.',
  TOPIC_CREATE_FAILED: 'topics create: the broker refused.',
  TOPIC_NOT_READY: 'topics create: the topic has no leaders in time.',
  APP_MODULE_NOT_FOUND: 'run/segments: the app module file does not exist (or is a directory).',
  APP_MODULE_IMPORT_FAILED: 'run/segments: importing the app module threw (its message is passed on).',
  APP_MODULE_INVALID:
    'run/segments: the app module is not a .ts/.js file, or its default export is not an App.',
} as const

/** A code from {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES
