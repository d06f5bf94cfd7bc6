import { Command, InvalidArgumentError } from 'commander'
import { localKafkaStatus, startLocalKafka, stopLocalKafka } from '../../devkafka/local-broker.ts'

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError('must be an integer from 1 to 65535')
  }
  return port
}

/** `multilane kafka start|stop|status`: the local single-node Apache Kafka for development. */
export function kafkaCommand(): Command {
  const kafka = new Command('kafka').description(
    'a local single-node Apache Kafka broker for development and tests',
  )

  kafka
    .command('start')
    .description(
      'start the local broker (reuses a running one); resolves the Kafka jars with Maven on first use',
    )
    .option('--port <port>', 'broker port (default: 9092 if free, else any free port)', parsePort)
    .option('--restart', 'restart on the data a previous `stop --keep` left (same port, topics, offsets)')
    .option('--json', 'print the broker state as JSON')
    .action(async (opts: { port?: number; json?: boolean; restart?: boolean }) => {
      const result = await startLocalKafka({
        ...(opts.port === undefined ? {} : { port: opts.port }),
        restart: opts.restart === true,
        onProgress: opts.json ? undefined : (m) => process.stderr.write(`multilane: ${m}…\n`),
      })
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ ...result.state, reused: result.reused, timings: result.timings })}\n`,
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
      process.stdout.write(
        `Apache Kafka ${state.version} ${how}\n  bootstrap: ${state.bootstrap}\n  pid: ${state.pid}\n  log: ${state.logFile}\n` +
          `Use it with: export KAFKA_BOOTSTRAP_SERVERS=${state.bootstrap}\n`,
      )
    })

  kafka
    .command('stop')
    .description('stop the local broker and delete its data')
    .option('--keep', 'keep the data directory (for inspection or `start --restart`)')
    .action(async (opts: { keep?: boolean }) => {
      const stopped = await stopLocalKafka({ keep: opts.keep === true })
      process.stdout.write(
        stopped
          ? `stopped the broker (pid ${stopped.pid}) on ${stopped.bootstrap}\n`
          : 'no local broker is running\n',
      )
    })

  kafka
    .command('status')
    .description('print the local broker state (exit 1 when none is running)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const state = await localKafkaStatus()
      if (opts.json)
        process.stdout.write(`${JSON.stringify(state ? { running: true, ...state } : { running: false })}\n`)
      else if (state) {
        process.stdout.write(
          `running: Apache Kafka ${state.version}\n  bootstrap: ${state.bootstrap}\n  pid: ${state.pid}\n` +
            `  data: ${state.dataDir}\n  log: ${state.logFile}\n  since: ${state.startedAt}\n`,
        )
      } else process.stdout.write('no local broker is running\n')
      if (!state) process.exitCode = 1
    })

  return kafka
}
