/** What the generated `server.properties` depends on. */
export interface BrokerConfigInput {
  port: number
  controllerPort: number
  dataDir: string
}

/**
 * A single combined broker+controller for development and tests: loopback only, single-node
 * replication for every internal topic (offsets, transactions, share-group state), share
 * groups usable, no initial rebalance delay, thread counts sized for a small machine.
 */
export function serverProperties({ port, controllerPort, dataDir }: BrokerConfigInput): string {
  const settings: Record<string, string | number> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': 1,
    'auto.create.topics.enable': 'false',
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // Lets tests use short share-group lock durations (group config share.record.lock.duration.ms).
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
