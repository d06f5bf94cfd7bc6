import { Command, InvalidArgumentError } from 'commander'
import { type AddedBroker, addedBrokers } from '../../devkafka/added-broker.ts'
import { DEV_SASL_USER } from '../../devkafka/broker-config.ts'
import {
  type LocalBrokerNode,
  localClusterNodes,
  startLocalBrokerNode,
  stopLocalBrokerNode,
} from '../../devkafka/broker-nodes.ts'
import { isRecordedBrokerAlive, readState } from '../../devkafka/broker-state.ts'
import { checkKafkaVersion, DEFAULT_KAFKA_VERSION } from '../../devkafka/kafka-version.ts'
import {
  type LocalKafkaState,
  localKafkaStatus,
  MAX_BROKERS,
  startLocalKafka,
  stopLocalKafka,
} from '../../devkafka/local-broker.ts'
import { brokerDir } from '../../devkafka/paths.ts'

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('must be an integer from 1 to 65535')
  }
  return port
}

function parseKafkaVersion(value: string): string {
  try {
    checkKafkaVersion(value, '--version')
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--version /, ''))
  }
  return value
}

function parseBrokers(value: string): number {
  const brokers = Number(value)
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > MAX_BROKERS) {
    throw new InvalidArgumentError(`must be an integer from 1 to ${MAX_BROKERS}`)
  }
  return brokers
}

function parseNodeId(value: string): number {
  const id = Number(value)
  if (!Number.isInteger(id) || id < 1) throw new InvalidArgumentError('must be a node id, an integer ≥ 1')
  return id
}

/** "  broker 2: 127.0.0.1:40123 (pid 4242, stopped)" per node of a cluster. */
function nodeLines(nodes: readonly LocalBrokerNode[]): string {
  return nodes
    .map(
      (n) =>
        `  broker ${n.nodeId}: ${n.bootstrap} (pid ${n.pid}${n.role === 'broker' ? '' : ', controller'}${n.running ? '' : ', stopped'})\n`,
    )
    .join('')
}

/** Every broker's bootstrap address, node 1 first. */
function bootstrapOf(first: string, added: readonly AddedBroker[]): string {
  return [first, ...added.map((b) => b.bootstrap)].join(',')
}

/** "since 2026-05-01T10:00:00.000Z (3 min ago)" */
function since(startedAt: string): string {
  const minutes = Math.round((Date.now() - Date.parse(startedAt)) / 60_000)
  const ago =
    minutes < 1 ? 'just now' : minutes < 120 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`
  return `since ${startedAt} (${ago})`
}

function features(state: LocalKafkaState): string {
  return Object.entries(state.features ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
}

/** The SASL, TLS and SASL_SSL listeners (the dev user's password is in docs/local-kafka.md, not here), and ACL mode. */
function listenerLines(state: LocalKafkaState): string {
  const sasl = `user ${DEV_SASL_USER.username}, PLAIN/SCRAM-SHA-256/SCRAM-SHA-512`
  return (
    `  sasl: ${state.saslBootstrap} (${sasl})\n` +
    `  tls: ${state.tlsBootstrap} (trust ${state.tlsCaFile})\n` +
    (state.saslSslBootstrap ? `  sasl_ssl: ${state.saslSslBootstrap} (${sasl}; trust the same CA)\n` : '') +
    (state.acls
      ? '  acls: on (StandardAuthorizer; super users User:multilane and User:ANONYMOUS, the plain and TLS listeners)\n'
      : '')
  )
}

/** `multilane kafka start|stop|status`: the local single-node Apache Kafka for development. */
export function kafkaCommand(): Command {
  const kafka = new Command('kafka').description(
    'a local Apache Kafka for development and tests (one node, or more with --brokers); ' +
      'MULTILANE_BROKER_DIR picks its directory (default ~/.cache/multilane/broker)',
  )

  kafka
    .command('start')
    .description(
      'start the local broker (reuses a running one); resolves the Kafka jars with Maven on first use',
    )
    .option('--port <port>', 'broker port (default: 9092 if free, else any free port)', parsePort)
    .option(
      '--restart',
      'restart on the data a previous `stop --keep` left (same port, version, topics, offsets); fails when nothing was kept',
    )
    .option(
      '--brokers <n>',
      `brokers in the cluster, 1 to ${MAX_BROKERS} (default 1): internal topics replicated min(N, 3) times; nodes 1-3 are also the controller quorum (with 2: node 1 alone), the others brokers only`,
      parseBrokers,
    )
    .option(
      '--version <version>',
      `Apache Kafka release: 4.x, or 3.9.x for the classic group protocol only (default: MULTILANE_KAFKA_VERSION, else ${DEFAULT_KAFKA_VERSION})`,
      parseKafkaVersion,
    )
    .option(
      '--acls',
      'ACL mode: the StandardAuthorizer, nothing allowed without an ACL (allow.everyone.if.no.acl.found=false) but for the super users User:multilane and User:ANONYMOUS (the plain, TLS and controller listeners)',
    )
    .option('--json', 'print the broker state as JSON')
    .action(
      async (
        opts: {
          port?: number
          json?: boolean
          restart?: boolean
          brokers?: number
          version?: string
          acls?: boolean
        },
        start: Command,
      ) => {
        if (opts.restart && opts.version !== undefined) {
          start.error(
            'error: --version cannot be combined with --restart: a restart runs the release that wrote the kept data',
            { exitCode: 2, code: 'multilane.conflictingOptions' },
          )
        }
        if (opts.restart && opts.acls) {
          start.error(
            'error: --acls cannot be combined with --restart: a restart keeps the mode the kept data was started with',
            { exitCode: 2, code: 'multilane.conflictingOptions' },
          )
        }
        if (opts.restart && (opts.brokers ?? 1) > 1) {
          start.error(
            'error: --brokers cannot be combined with --restart: added brokers do not keep their data',
            {
              exitCode: 2,
              code: 'multilane.conflictingOptions',
            },
          )
        }
        const onProgress = opts.json ? undefined : (m: string) => process.stderr.write(`multilane: ${m}…\n`)
        // Ctrl-C leaves a starting broker recorded (the next start, status and stop find it): say so.
        const onInterrupt = (): void => {
          const recorded = readState()
          if (recorded && isRecordedBrokerAlive(recorded)) {
            process.stderr.write(
              `\nmultilane: interrupted; the broker (pid ${recorded.pid}) keeps starting in the background in ${brokerDir()}: ` +
                '`multilane kafka start` waits for it and reuses it, `multilane kafka stop` stops it\n',
            )
          } else process.stderr.write('\nmultilane: interrupted before a broker was started\n')
          process.exit(130)
        }
        process.once('SIGINT', onInterrupt)
        try {
          const result = await startLocalKafka({
            ...(opts.port === undefined ? {} : { port: opts.port }),
            ...(opts.version === undefined ? {} : { version: opts.version }),
            ...(opts.brokers === undefined ? {} : { brokers: opts.brokers }),
            // A cluster of several JVMs on a loaded machine: give each step room.
            ...((opts.brokers ?? 1) > 1 ? { timeoutMs: 180_000 } : {}),
            restart: opts.restart === true,
            ...(opts.acls ? { acls: true } : {}),
            ...(onProgress ? { onProgress } : {}),
          })
          const added = addedBrokers()
          const { state } = result
          const bootstrap = bootstrapOf(state.bootstrap, added)
          if (opts.json) {
            process.stdout.write(
              `${JSON.stringify({ ...state, addedBrokers: added, reused: result.reused, recovered: result.recovered, timings: result.timings })}\n`,
            )
            return
          }
          const how = result.reused
            ? `already running in ${state.dir} (pid ${state.pid}, ${since(state.startedAt)})` +
              (result.recovered ? '; it was left starting by an interrupted start' : '') +
              ': reused'
            : `${state.restarted ? 'restarted on the kept data' : 'started'} in ${Object.values(result.timings).reduce((a, b) => a + b, 0)} ms (${Object.entries(
                result.timings,
              )
                .map(([k, v]) => `${k} ${v} ms`)
                .join(', ')}; jars from ${result.jarSource})`
          process.stdout.write(
            `Apache Kafka ${state.version} ${how}\n  bootstrap: ${bootstrap}\n  dir: ${state.dir}\n  pid: ${state.pid}\n` +
              `  log: ${state.logFile}\n` +
              listenerLines(state) +
              (state.features ? `  features: ${features(state)}\n` : '') +
              added.map((b) => `  broker ${b.nodeId}: ${b.bootstrap} (pid ${b.pid})\n`).join('') +
              `Use it with: export KAFKA_BOOTSTRAP_SERVERS=${bootstrap}\n`,
          )
        } finally {
          process.off('SIGINT', onInterrupt)
        }
      },
    )

  kafka
    .command('stop')
    .description('stop the local broker (and brokers added to it) and delete its data')
    .option(
      '--keep',
      'keep the data directory (for inspection or `start --restart`); added brokers keep none',
    )
    .action(async (opts: { keep?: boolean }) => {
      const result = await stopLocalKafka({
        keep: opts.keep === true,
        onProgress: (m) => process.stderr.write(`multilane: ${m}…\n`),
      })
      const lines: string[] = []
      const { stopped, stale, addedBrokers: added, untracked } = result
      if (stopped) {
        lines.push(
          `stopped the broker (pid ${stopped.pid}) on ${stopped.bootstrap}${added > 0 ? ` and ${added} added broker${added > 1 ? 's' : ''}` : ''}`,
        )
      }
      if (untracked.length > 0)
        lines.push(`stopped an unrecorded broker of ${brokerDir()} (pid ${untracked.join(', ')})`)
      if (stale?.stoppedOnPurpose) {
        lines.push(
          `stopped the cluster${added > 0 ? ` (${added} running broker${added > 1 ? 's' : ''})` : ''}; node 1 (pid ${stale.pid}) had been stopped with \`kafka broker stop 1\`` +
            (result.kept ? '' : '; deleted its data'),
        )
      } else if (stale) {
        lines.push(
          `no local broker is running: the recorded one (pid ${stale.pid}, ${stale.bootstrap}) had already exited; removed its record`,
        )
      }
      if (!stopped && !stale && untracked.length === 0) lines.push('no local broker is running')
      if (result.kept)
        lines.push(`kept its data in ${brokerDir()} (resume with \`multilane kafka start --restart\`)`)
      process.stdout.write(`${lines.join('\n')}\n`)
    })

  kafka
    .command('status')
    .description('print the local broker state (exit 1 when none is running, or it is still starting)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const alive = await localKafkaStatus()
      const nodes = localClusterNodes()
      // Node 1 stopped with `kafka broker stop 1` (or killed under running brokers): still a cluster.
      const state = alive ?? (nodes ? readState() : undefined)
      const added = state ? addedBrokers() : []
      const running = alive?.phase === 'running'
      if (opts.json)
        process.stdout.write(
          `${JSON.stringify(state ? { running, ...state, addedBrokers: added, nodes } : { running: false })}\n`,
        )
      else if (state) {
        const phase = !alive
          ? 'node 1 stopped (`multilane kafka broker start 1` restarts it)'
          : running
            ? 'running'
            : 'starting (a start is under way or was interrupted; `multilane kafka start` waits for it)'
        process.stdout.write(
          `${phase}: Apache Kafka ${state.version}\n` +
            `  bootstrap: ${bootstrapOf(state.bootstrap, added)}\n  dir: ${state.dir}\n  pid: ${state.pid}\n` +
            (nodes && nodes.length > 1 ? nodeLines(nodes) : '') +
            `  data: ${state.dataDir}\n  log: ${state.logFile}\n  ${since(state.startedAt)}\n` +
            listenerLines(state) +
            (state.features ? `  features: ${features(state)}\n` : ''),
        )
      } else process.stdout.write(`no local broker is running (in ${brokerDir()})\n`)
      if (!running) process.exitCode = 1
    })

  const broker = kafka
    .command('broker')
    .description(
      'one node of the local cluster at a time, for chaos tests: stop it keeping its data, start it again, list them',
    )
  broker
    .command('list')
    .description('the nodes of the local cluster: id, pid, bootstrap, running or stopped')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => {
      const nodes = localClusterNodes()
      if (opts.json) process.stdout.write(`${JSON.stringify(nodes ?? [])}\n`)
      else if (nodes) process.stdout.write(nodeLines(nodes))
      else process.stdout.write(`no local broker is running (in ${brokerDir()})\n`)
      if (!nodes) process.exitCode = 1
    })
  broker
    .command('stop')
    .description('stop one node keeping its data, id and ports (a controlled shutdown; --kill: SIGKILL)')
    .argument('<node>', 'node id', parseNodeId)
    .option('--kill', 'SIGKILL (a crash) instead of a controlled shutdown')
    .action(async (nodeId: number, opts: { kill?: boolean }) => {
      const node = await stopLocalBrokerNode(nodeId, { kill: opts.kill === true })
      process.stdout.write(
        `${opts.kill ? 'killed' : 'stopped'} node ${nodeId} (pid ${node.pid}, ${node.bootstrap}); its data is kept: \`multilane kafka broker start ${nodeId}\` starts it again\n`,
      )
    })
  broker
    .command('start')
    .description(
      'start a stopped node again on its data, same id and ports; waits until the cluster lists it',
    )
    .argument('<node>', 'node id', parseNodeId)
    .action(async (nodeId: number) => {
      const node = await startLocalBrokerNode(nodeId, { timeoutMs: 180_000 })
      process.stdout.write(
        `started node ${nodeId} (pid ${node.pid}, ${node.bootstrap}); the cluster lists it\n`,
      )
    })

  return kafka
}
