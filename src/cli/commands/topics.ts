// `multilane topics create|list`: the short path to a topic (the local broker does not create
// topics on first use), against the local broker, --bootstrap or KAFKA_BOOTSTRAP_SERVERS.
import { setTimeout as sleep } from 'node:timers/promises'
import { Admin } from '@platformatic/kafka'
import { Command, InvalidArgumentError } from 'commander'
import { CliError } from '../errors.ts'
import { type TargetCluster, targetCluster } from '../target-cluster.ts'
import { topicsProduceCommand } from './topics-produce.ts'

/** Kafka's rule for topic names (kafka.common.internals.Topic). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

function parseTopicName(value: string): string {
  if (!TOPIC_NAME.test(value) || value === '.' || value === '..') {
    throw new InvalidArgumentError(
      'must be 1 to 249 characters of ASCII letters, digits, ".", "_" and "-" (and not "." or "..")',
    )
  }
  return value
}

function positiveInteger(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be an integer ≥ 1')
  }
  return n
}

function parseBootstrapFlag(value: string): string {
  if (!/^\s*[^,\s]+:\d{1,5}(\s*,\s*[^,\s]+:\d{1,5})*\s*$/.test(value)) {
    throw new InvalidArgumentError('must be host:port[,host:port…]')
  }
  return value
}

/** `--config k=v`, repeatable: collects into a map; a key given twice is refused. */
function collectConfig(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=')
  if (at <= 0) throw new InvalidArgumentError(`"${value}" is not key=value`)
  const key = value.slice(0, at).trim()
  if (key in previous) throw new InvalidArgumentError(`${key} is given twice`)
  return { ...previous, [key]: value.slice(at + 1) }
}

function admin(cluster: TargetCluster): Admin {
  return new Admin({
    clientId: 'multilane-cli',
    bootstrapBrokers: cluster.bootstrap.split(','),
    connectTimeout: 5000,
    timeout: 15_000,
    retries: 2,
  })
}

interface ErrorTree {
  message?: string
  code?: string
  errors?: ErrorTree[]
  response?: { topics?: Array<{ name?: string; errorCode?: number; errorMessage?: string | null }> }
}

function* walk(error: ErrorTree): Generator<ErrorTree> {
  yield error
  for (const inner of error.errors ?? []) yield* walk(inner)
}

/** The broker's own words for a failed topic request, or undefined. */
function topicError(error: unknown): { errorCode: number; errorMessage: string } | undefined {
  for (const e of walk(error as ErrorTree)) {
    const topic = e.response?.topics?.find((t) => (t.errorCode ?? 0) !== 0)
    if (topic) return { errorCode: topic.errorCode ?? -1, errorMessage: topic.errorMessage ?? 'no message' }
  }
  return undefined
}

/** Turns a connection failure into BROKER_UNREACHABLE; returns other errors as they are. */
function unreachable(error: unknown, cluster: TargetCluster): unknown {
  const network = [...walk(error as ErrorTree)].find((e) => e.code === 'PLT_KFK_NETWORK')
  if (!network) return error
  return new CliError(
    'BROKER_UNREACHABLE',
    `Cannot reach ${cluster.bootstrap} (from ${cluster.source}): ${network.message}`,
    { cause: error },
  )
}

const TOPIC_ALREADY_EXISTS = 36

interface TopicSummary {
  name: string
  partitions: number
  replicationFactor: number
}

async function createTopic(
  cluster: TargetCluster,
  name: string,
  partitions: number,
  replicationFactor: number | undefined,
  configs: Record<string, string>,
  ifNotExists: boolean,
): Promise<{ topic: TopicSummary; created: boolean }> {
  const client = admin(cluster)
  try {
    let created = true
    try {
      await client.createTopics({
        topics: [name],
        partitions,
        replicas: replicationFactor ?? -1, // -1: the cluster's default.replication.factor
        configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
      })
    } catch (error) {
      const failed = topicError(error)
      if (failed?.errorCode === TOPIC_ALREADY_EXISTS) {
        if (!ifNotExists) {
          throw new CliError(
            'TOPIC_EXISTS',
            `Topic "${name}" already exists on ${cluster.bootstrap}; pass --if-not-exists to accept an existing topic.`,
          )
        }
        created = false
      } else if (failed) {
        throw new CliError(
          'TOPIC_CREATE_FAILED',
          `Creating topic "${name}" on ${cluster.bootstrap} failed: ${failed.errorMessage}`,
          { cause: error },
        )
      } else throw unreachable(error, cluster)
    }
    return { topic: await awaitLeaders(client, cluster, name), created }
  } finally {
    await client.close().catch(() => {})
  }
}

/** Waits until every partition has a leader, so the topic can be used as soon as the command returns. */
async function awaitLeaders(client: Admin, cluster: TargetCluster, name: string): Promise<TopicSummary> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const metadata = await client.metadata({ topics: [name], forceUpdate: true }).catch(() => undefined)
    const topic = metadata?.topics.get(name)
    if (
      topic &&
      topic.partitions.length === topic.partitionsCount &&
      topic.partitions.every((p) => p.leader >= 0)
    ) {
      return {
        name,
        partitions: topic.partitionsCount,
        replicationFactor: topic.partitions[0]?.replicas.length ?? 0,
      }
    }
    if (Date.now() > deadline) {
      throw new CliError(
        'TOPIC_NOT_READY',
        `Topic "${name}" on ${cluster.bootstrap} has no leader for every partition after 30 s.`,
      )
    }
    await sleep(100)
  }
}

/** User topics (internal ones such as __consumer_offsets are left out). */
async function listTopics(cluster: TargetCluster): Promise<TopicSummary[]> {
  const client = admin(cluster)
  try {
    const names = await client.listTopics({ includeInternals: false }).catch((error: unknown) => {
      throw unreachable(error, cluster)
    })
    if (names.length === 0) return []
    const metadata = await client.metadata({ topics: names, forceUpdate: true })
    return names
      .map((name) => {
        const topic = metadata.topics.get(name)
        return {
          name,
          partitions: topic?.partitionsCount ?? 0,
          replicationFactor: topic?.partitions[0]?.replicas.length ?? 0,
        }
      })
      .sort((a, b) => a.name.localeCompare(b.name))
  } finally {
    await client.close().catch(() => {})
  }
}

const BOOTSTRAP_HELP =
  'host:port[,…] of the cluster (default: $KAFKA_BOOTSTRAP_SERVERS, else the local broker)'

/** `multilane topics create|list|produce`. */
export function topicsCommand(): Command {
  const topics = new Command('topics').description(
    'create, list and produce to topics (the local broker does not create topics on first use)',
  )

  topics
    .command('create')
    .description('create a topic and wait until every partition has a leader')
    .argument('<name>', 'topic name', parseTopicName)
    .requiredOption('--partitions <n>', 'number of partitions (≥ 1)', positiveInteger)
    .option(
      '--replication-factor <r>',
      "replicas per partition (default: the cluster's default)",
      positiveInteger,
    )
    .option('--config <key=value>', 'a topic config such as retention.ms=3600000 (repeatable)', collectConfig)
    .option('--if-not-exists', 'succeed when the topic exists already (it is left as it is)')
    .option('--bootstrap <servers>', BOOTSTRAP_HELP, parseBootstrapFlag)
    .option('--json', 'print the topic as JSON')
    .action(
      async (
        name: string,
        opts: {
          partitions: number
          replicationFactor?: number
          config?: Record<string, string>
          ifNotExists?: boolean
          bootstrap?: string
          json?: boolean
        },
      ) => {
        const cluster = await targetCluster(opts.bootstrap)
        const { topic, created } = await createTopic(
          cluster,
          name,
          opts.partitions,
          opts.replicationFactor,
          opts.config ?? {},
          opts.ifNotExists === true,
        )
        if (opts.json)
          process.stdout.write(`${JSON.stringify({ ...topic, created, bootstrap: cluster.bootstrap })}\n`)
        else {
          process.stdout.write(
            `${created ? 'created' : 'exists already:'} topic ${topic.name} (${topic.partitions} partition${topic.partitions === 1 ? '' : 's'}, ` +
              `replication factor ${topic.replicationFactor}) on ${cluster.bootstrap}\n`,
          )
        }
      },
    )

  topics
    .command('list')
    .description('list the topics (internal ones left out) with their partitions and replication factor')
    .option('--bootstrap <servers>', BOOTSTRAP_HELP, parseBootstrapFlag)
    .option('--json', 'print as JSON: [{ name, partitions, replicationFactor }]')
    .action(async (opts: { bootstrap?: string; json?: boolean }) => {
      const cluster = await targetCluster(opts.bootstrap)
      const list = await listTopics(cluster)
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list)}\n`)
        return
      }
      if (list.length === 0) {
        process.stdout.write(`no topics on ${cluster.bootstrap}\n`)
        return
      }
      const width = Math.max(5, ...list.map((t) => t.name.length))
      process.stdout.write(
        `${'TOPIC'.padEnd(width)}  PARTITIONS  REPLICATION\n` +
          list
            .map(
              (t) =>
                `${t.name.padEnd(width)}  ${String(t.partitions).padStart(10)}  ${String(t.replicationFactor).padStart(11)}\n`,
            )
            .join(''),
      )
    })

  topics.addCommand(topicsProduceCommand(parseTopicName, parseBootstrapFlag, BOOTSTRAP_HELP))

  return topics
}
