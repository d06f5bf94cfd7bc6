// `multilane topics produce <topic>`: records from stdin or a file, one per line (text or JSON
// lines), through the library's producer (idempotent, acks=all).
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError, Option } from 'commander'
import { AppProducer } from '../../producing/app-producer.ts'
import { ProducerError } from '../../producing/errors.ts'
import { decodeInput, type InputFormat, parseProduceInput } from '../../producing/produce-input.ts'
import { ProducerClient } from '../../producing/producer-client.ts'
import { targetCluster } from '../target-cluster.ts'

function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=')
  if (at <= 0) throw new InvalidArgumentError(`"${value}" is not name=value`)
  const name = value.slice(0, at)
  if (name in previous) throw new InvalidArgumentError(`header ${name} is given twice`)
  return { ...previous, [name]: value.slice(at + 1) }
}

function partitionFlag(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('must be an integer ≥ 0')
  return n
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

interface ProduceFlags {
  file?: string
  key?: string
  header?: Record<string, string>
  partition?: number
  format: InputFormat
  bootstrap?: string
  json?: boolean
}

/** The `produce` subcommand of `multilane topics`. */
export function topicsProduceCommand(
  parseTopicName: (value: string) => string,
  parseBootstrapFlag: (value: string) => string,
  bootstrapHelp: string,
): Command {
  return new Command('produce')
    .description(
      'produce records to a topic from stdin (or --file), one per line: the line is the value, or with ' +
        '--format json a {"key", "value", "headers", "partition"} object; every line is checked before anything is sent',
    )
    .argument('<topic>', 'topic name', parseTopicName)
    .option('--file <path>', 'read the lines from this file instead of stdin')
    .option('--key <key>', 'the key of every record (a JSON line\'s "key" wins)')
    .option(
      '--header <name=value>',
      "a header of every record (repeatable; a JSON line's header wins)",
      header,
    )
    .option(
      '--partition <n>',
      'the partition of every record (default: by key, round robin without one)',
      partitionFlag,
    )
    .addOption(
      new Option('--format <format>', 'lines: each line is a value; json: each line is a JSON object')
        .choices(['lines', 'json'])
        .default('lines'),
    )
    .option('--bootstrap <servers>', bootstrapHelp, parseBootstrapFlag)
    .option('--json', 'print the result as JSON: { topic, produced, partitions }')
    .action(async (topic: string, opts: ProduceFlags) => {
      const source = opts.file === undefined ? 'stdin' : `--file ${opts.file}`
      let input: Buffer
      try {
        input = opts.file === undefined ? await readStdin() : await readFile(opts.file)
      } catch (error) {
        throw new ProducerError(
          'INVALID_PRODUCE_RECORD',
          `${source}: cannot be read: ${(error as Error).message}`,
          {
            cause: error,
          },
        )
      }
      const records = parseProduceInput(
        decodeInput(input, source),
        topic,
        opts.format,
        {
          headers: opts.header ?? {},
          ...(opts.key === undefined ? {} : { key: opts.key }),
          ...(opts.partition === undefined ? {} : { partition: opts.partition }),
        },
        source,
      )
      const cluster = await targetCluster(opts.bootstrap)
      const client = new ProducerClient({ bootstrap: cluster.bootstrap, clientId: 'multilane-cli' })
      const producer = new AppProducer(client)
      const partitions = new Map<number, number>()
      let produced = 0
      try {
        // Every record's topic and partition, named by its place in the input, before anything is sent.
        await client.requireTopics(
          records.map((r) => ({
            topic: r.topic,
            ...(r.partition === undefined ? {} : { partition: r.partition }),
          })),
          (i) => `${source} record ${i + 1}`,
        )
        // sendBatch sends in requests of a bounded size, in order; a failure says how many were produced.
        const batch = await producer.sendBatch(records)
        produced = batch.count
        for (const p of batch.partitions) partitions.set(p.partition, p.baseOffset)
      } finally {
        await client.close().catch(() => {})
      }
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({
            topic,
            produced,
            bootstrap: cluster.bootstrap,
            partitions: [...partitions]
              .sort((a, b) => a[0] - b[0])
              .map(([partition, firstOffset]) => ({ partition, firstOffset })),
          })}\n`,
        )
      } else {
        process.stdout.write(
          `produced ${produced} record${produced === 1 ? '' : 's'} to ${topic} on ${cluster.bootstrap}\n`,
        )
      }
    })
}
