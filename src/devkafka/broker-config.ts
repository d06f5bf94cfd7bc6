import { hasModernGroups } from './kafka-version.ts'

/** What the generated `server.properties` depends on. */
export interface BrokerConfigInput {
  port: number
  /** A second client listener that requires SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
  saslPort: number
  /** A third client listener with TLS (a self-signed certificate for 127.0.0.1/localhost). */
  tls: { port: number; keystoreFile: string; password: string }
  /**
   * A fourth client listener: SASL (as `saslPort`) over TLS (the same certificate). Absent on
   * nodes recorded by earlier launchers (kept data restarted), which had no such listener.
   */
  saslSslPort?: number
  /**
   * ACL mode: the StandardAuthorizer, nothing allowed without an ACL, super users the dev SASL
   * user and `User:ANONYMOUS` (the principal of the plain, TLS and controller listeners, so the
   * inter-broker and controller traffic and the plain listener keep working).
   */
  acls?: boolean
  /** This node's controller listener (a controller), or node 1's (a broker-only node without `quorum`). */
  controllerPort: number
  dataDir: string
  /**
   * The first node is a combined broker+controller (the default); nodes added later
   * (`addLocalBroker`) are brokers only and reach the controller at `controllerPort`; in a
   * cluster with a controller `quorum`, nodes 2 and 3 are combined broker+controller nodes too.
   */
  node?: { id: number; role: 'broker' | 'broker,controller' }
  /** The controller quorum's voters (nodes 1-3 of a cluster of ≥ 3); absent: node 1 alone. */
  quorum?: readonly QuorumVoter[]
  /**
   * The Apache Kafka release (default: a 4.x one). A 3.9 node gets the classic group protocol
   * only and none of the 4.x group settings (it would log them as unknown).
   */
  version?: string
  /**
   * How many brokers the cluster is meant to have (default 1). Internal topics (offsets,
   * transactions, share-group state) get replication factor min(brokers, 3) and min ISR 1, so
   * one node down never blocks a commit.
   */
  brokers?: number
}

/** A KRaft controller of the local cluster's quorum (KIP-853 `--initial-controllers`). */
export interface QuorumVoter {
  nodeId: number
  port: number
  /** The directory id of its metadata log directory, given at format time. */
  directoryId: string
}

/** StorageTool's `--initial-controllers` value: `id@host:port:directoryId,…`. */
export function initialControllers(quorum: readonly QuorumVoter[]): string {
  return quorum.map((v) => `${v.nodeId}@127.0.0.1:${v.port}:${v.directoryId}`).join(',')
}

/** Replication factor of internal topics for a cluster of `brokers` nodes: min(brokers, 3). */
export function internalReplicationFactor(brokers = 1): number {
  return Math.min(Math.max(1, brokers), 3)
}

/**
 * The development SASL user of the local broker (its SASL listener only; the plain listener
 * needs no credentials). Loopback only, for trying and testing authentication.
 */
export const DEV_SASL_USER = { username: 'multilane', password: 'multilane-dev-secret' } as const

/**
 * SCRAM credentials to create when formatting (KRaft stores them in the metadata log). They hold
 * the password: the launcher passes them to the JVM in a private argument file, never on a
 * command line.
 */
export function scramFormatArguments(): string[] {
  const { username, password } = DEV_SASL_USER
  return ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
    '--add-scram',
    `${m}=[name=${username},password=${password}]`,
  ])
}

/** The authorizer of ACL mode (KRaft's). */
export const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'

/**
 * ACL-mode settings: every SASL principal but the dev user needs ACLs; the plain, TLS and
 * controller listeners authenticate nobody (`User:ANONYMOUS`), so that principal is a super user
 * too (inter-broker and controller requests, the tools and tests on the plain listener).
 */
export function aclSettings(): Record<string, string> {
  return {
    'authorizer.class.name': STANDARD_AUTHORIZER,
    'super.users': `User:ANONYMOUS;User:${DEV_SASL_USER.username}`,
    'allow.everyone.if.no.acl.found': 'false',
  }
}

/** The JAAS settings of one SASL listener (PLAIN with the dev user, both SCRAMs from the metadata). */
function saslListenerSettings(listener: string): Record<string, string> {
  const { username, password } = DEV_SASL_USER
  return {
    [`listener.name.${listener}.plain.sasl.jaas.config`]: `org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${password}";`,
    [`listener.name.${listener}.scram-sha-256.sasl.jaas.config`]:
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    [`listener.name.${listener}.scram-sha-512.sasl.jaas.config`]:
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
  }
}

/** Share-group and KIP-848 settings of a 4.x node. */
const MODERN_GROUP_SETTINGS: Record<string, string | number> = {
  // Since Kafka 4.3 the coordinator batches assignment updates (KIP-1263, default 1 s): compute
  // them at once, as before, so membership changes settle without that delay. Allowed: ≥ 0
  // (also the minimum of group.{consumer,share}.min.assignment.interval.ms).
  'group.consumer.assignment.interval.ms': 0,
  'group.share.assignment.interval.ms': 0,
  // Lets tests set short share-group lock durations per group (group config
  // share.record.lock.duration.ms; 1000 is the lowest this setting allows).
  'group.share.min.record.lock.duration.ms': 1000,
  // Development defaults: membership changes settle in seconds rather than the production
  // defaults' 5 s heartbeats and 45 s session timeouts; groups may still override them.
  'group.consumer.heartbeat.interval.ms': 1000,
  'group.consumer.min.heartbeat.interval.ms': 500,
  'group.consumer.session.timeout.ms': 10000,
  'group.consumer.min.session.timeout.ms': 3000,
  'group.share.heartbeat.interval.ms': 1000,
  'group.share.min.heartbeat.interval.ms': 500,
  'group.share.session.timeout.ms': 10000,
  'group.share.min.session.timeout.ms': 3000,
}

/** A 3.9 node: the classic protocol only (KIP-848 was not yet production-ready there). */
const CLASSIC_ONLY_SETTINGS: Record<string, string | number> = {
  'group.coordinator.rebalance.protocols': 'classic',
}

/**
 * A combined broker+controller for development and tests: loopback only, internal topics
 * (offsets, transactions, share-group state) replicated min(brokers, 3) times, share
 * groups usable (4.x; a 3.9 node runs classic groups only), no initial rebalance delay, thread
 * counts sized for a small machine.
 * Brokers added to it (`node`) get the same client listeners and settings.
 */
export function serverProperties({
  port,
  saslPort,
  tls,
  saslSslPort,
  acls,
  controllerPort,
  dataDir,
  node,
  version,
  brokers,
  quorum,
}: BrokerConfigInput): string {
  const roles = node?.role ?? 'broker,controller'
  const controllers = quorum
    ? quorum.map((v) => `127.0.0.1:${v.port}`).join(',')
    : `127.0.0.1:${controllerPort}`
  const replication = internalReplicationFactor(brokers)
  const modern = version === undefined || hasModernGroups(version)
  const clientListeners =
    `PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},SSL://127.0.0.1:${tls.port}` +
    (saslSslPort === undefined ? '' : `,SASL_SSL://127.0.0.1:${saslSslPort}`)
  const settings: Record<string, string | number> = {
    'process.roles': roles,
    'node.id': node?.id ?? 1,
    'controller.quorum.bootstrap.servers': controllers,
    listeners:
      roles === 'broker' ? clientListeners : `${clientListeners},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': clientListeners,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map':
      'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL' +
      (saslSslPort === undefined ? '' : ',SASL_SSL:SASL_SSL'),
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': tls.keystoreFile,
    'ssl.keystore.password': tls.password,
    'ssl.key.password': tls.password,
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    ...saslListenerSettings('sasl_plaintext'),
    ...(saslSslPort === undefined ? {} : saslListenerSettings('sasl_ssl')),
    ...(acls ? aclSettings() : {}),
    'log.dirs': dataDir,
    'num.partitions': 1,
    'auto.create.topics.enable': 'false',
    // Internal topics: replicated on min(brokers, 3) nodes, min ISR 1 (topic default
    // min.insync.replicas=1 for __consumer_offsets): a commit needs only the leader, so one node
    // down never blocks commits or transactions.
    'offsets.topic.replication.factor': replication,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': replication,
    'transaction.state.log.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    ...(modern
      ? {
          'share.coordinator.state.topic.replication.factor': replication,
          'share.coordinator.state.topic.min.isr': 1,
          ...MODERN_GROUP_SETTINGS,
        }
      : CLASSIC_ONLY_SETTINGS),
    'num.io.threads': 4,
    'num.network.threads': 2,
    'log.segment.bytes': 128 * 1024 * 1024,
  }
  return `${Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`
}

/** log4j2 configuration: everything at INFO to one file, nothing on the console. */
export function log4jProperties(logFile: string): string {
  return [
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = FILE',
    `appender.file.fileName = ${logFile}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = INFO',
    'rootLogger.appenderRef.file.ref = FILE',
    'logger.kafka.name = kafka',
    'logger.kafka.level = INFO',
    'logger.statechange.name = state.change.logger',
    'logger.statechange.level = WARN',
    '',
  ].join('\n')
}

/**
 * `keytool` commands (from the JDK the broker needs anyway) that create the TLS listener's
 * self-signed certificate and export it as PEM, for clients to trust (`tls: { ca }`). The
 * keystore password is read from `passwordFile`, so no command line shows it.
 */
export function tlsCertificateCommands(
  keystoreFile: string,
  caFile: string,
  passwordFile: string,
): string[][] {
  return [
    [
      '-genkeypair',
      '-alias',
      'broker',
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-validity',
      '3650',
      '-keystore',
      keystoreFile,
      '-storetype',
      'PKCS12',
      '-storepass:file',
      passwordFile,
      '-keypass:file',
      passwordFile,
      '-dname',
      'CN=localhost',
      '-ext',
      'SAN=ip:127.0.0.1,dns:localhost',
    ],
    [
      '-exportcert',
      '-rfc',
      '-alias',
      'broker',
      '-keystore',
      keystoreFile,
      '-storepass:file',
      passwordFile,
      '-file',
      caFile,
    ],
  ]
}
