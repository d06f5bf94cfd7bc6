import { Command, InvalidArgumentError } from 'commander'
import { type AddedBroker, addedBrokers, addLocalBroker } from '../../devkafka/added-broker.ts'
import { localKafkaStatus, startLocalKafka, stopLocalKafka } from '../../devkafka/local-broker.ts'

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('must be an integer from 1 to 65535')
  }
  return port
}

const MAX_BROKERS = 9

function parseBrokers(value: string): number {
  const brokers = Number(value)
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > MAX_BROKERS) {
    throw new InvalidArgumentError(`must be an integer from 1 to ${MAX_BROKERS}`)
  }
  return brokers
}

/** Every broker's bootstrap address, node 1 first. */
function bootstrapOf(first: string, added: readonly AddedBroker[]): string {
  return [first, ...added.map((b) => b.bootstrap)].join(',')
}

/** `multilane kafka start|stop|status`: the local single-node Apache Kafka for development. */
export function kafkaCommand(): Command {
  const kafka = new Command('kafka').description(
    'a local Apache Kafka for development and tests (one node, or more with --brokers)',
  )

  kafka
    .command('start')
    .description(
      'start the local broker (reuses a running one); resolves the Kafka jars with Maven on first use',
    )
    .option('--port <port>', 'broker port (default: 9092 if free, else any free port)', parsePort)
    .option('--restart', 'restart on the data a previous `stop --keep` left (same port, topics, offsets)')
    .option(
      '--brokers <n>',
      `brokers in the cluster, 1 to ${MAX_BROKERS} (default 1); node 1 is also the controller, the others are brokers only`,
      parseBrokers,
    )
    .option('--json', 'print the broker state as JSON')
    .action(
      async (
        opts: { port?: number; json?: boolean; restart?: boolean; brokers?: number },
        start: Command,
      ) => {
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
        const result = await startLocalKafka({
          ...(opts.port === undefined ? {} : { port: opts.port }),
          restart: opts.restart === true,
          onProgress,
        })
        // Adds brokers until the cluster has the number asked for (never removes any).
        while (1 + addedBrokers().length < (opts.brokers ?? 1)) {
          onProgress?.(`adding broker ${2 + addedBrokers().length}`)
          await addLocalBroker()
        }
        const added = addedBrokers()
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ ...result.state, addedBrokers: added, reused: result.reused, timings: result.timings })}\n`,
          )
          return
        }
        const { state } = result
        const how = result.reused
          ? 'already running'
          : `started in ${Object.values(result.timings).reduce((a, b) => a + b, 0)} ms (${Object.entries(
              result.timings,
            )
              .map(([k, v]) => `${k} ${v} ms`)
              .join(', ')}; jars from ${result.jarSource})`
        const bootstrap = bootstrapOf(state.bootstrap, added)
        process.stdout.write(
          `Apache Kafka ${state.version} ${how}\n  bootstrap: ${state.bootstrap}\n  pid: ${state.pid}\n  log: ${state.logFile}\n` +
            added.map((b) => `  broker ${b.nodeId}: ${b.bootstrap} (pid ${b.pid})\n`).join('') +
            `Use it with: export KAFKA_BOOTSTRAP_SERVERS=${bootstrap}\n`,
        )
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
      const added = addedBrokers().length
      const stopped = await stopLocalKafka({ keep: opts.keep === true })
      process.stdout.write(
        stopped
          ? `stopped the broker (pid ${stopped.pid}) on ${stopped.bootstrap}${added > 0 ? ` and ${added} added broker${added > 1 ? 's' : ''}` : ''}\n`
          : 'no local broker is running\n',
      )
    })

  kafka
    .command('status')
    .description('print the local broker state (exit 1 when none is running)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const state = await localKafkaStatus()
      const added = state ? addedBrokers() : []
      if (opts.json)
        process.stdout.write(
          `${JSON.stringify(state ? { running: true, ...state, addedBrokers: added } : { running: false })}\n`,
        )
      else if (state) {
        process.stdout.write(
          `running: Apache Kafka ${state.version}\n  bootstrap: ${bootstrapOf(state.bootstrap, added)}\n  pid: ${state.pid}\n` +
            added.map((b) => `  broker ${b.nodeId}: ${b.bootstrap} (pid ${b.pid})\n`).join('') +
            `  data: ${state.dataDir}\n  log: ${state.logFile}\n  since: ${state.startedAt}\n`,
        )
      } else process.stdout.write('no local broker is running\n')
      if (!state) process.exitCode = 1
    })

  return kafka
}
