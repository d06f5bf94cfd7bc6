// Apache Kafka's own command-line tools, from the jars the local cluster runs on: the checker's
// view of the committed offsets and of the topic comes from Kafka, not from multilane.
// - ConsumerGroupCommand (kafka-consumer-groups.sh; org.apache.kafka.tools.consumer.group in
//   Kafka ≥ 3.7, kafka.admin before) --describe: committed offsets and log ends per group.
// - ShareGroupCommand (kafka-share-groups.sh) --describe --offsets: share-partition start
//   offsets and lag of a share group.
// - ConsoleConsumer (kafka-console-consumer.sh) --from-beginning: every record with its
//   partition, offset and key.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { findJava, kafkaVersion, resolveKafkaJars } from '../src/index.ts'
import type { GroupOffset, TopicRecord } from './checker.ts'
import { parseConsoleRecords, parseGroupDescribe, parseShareGroupOffsets } from './logs.ts'
import type { ShareOffset } from './share-checker.ts'

const run = promisify(execFile)

const CONSUMER_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'
const SHARE_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ShareGroupCommand'
const CONSOLE_CONSUMER = 'org.apache.kafka.tools.consumer.ConsoleConsumer'

async function kafkaTool(
  env: NodeJS.ProcessEnv,
  mainClass: string,
  args: readonly string[],
  timeoutMs: number,
): Promise<string> {
  const java = findJava(env).executable
  const { classpath } = resolveKafkaJars(kafkaVersion(env), env)
  try {
    const { stdout } = await run(java, ['-Xmx256m', '-cp', classpath, mainClass, ...args], {
      env,
      timeout: timeoutMs,
      maxBuffer: 256 * 1024 * 1024,
    })
    return stdout
  } catch (error) {
    const e = error as Error & { stderr?: string; stdout?: string }
    throw new Error(`${mainClass} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`)
  }
}

/** Committed offsets and log ends of `groups` on `topic`, as `kafka-consumer-groups.sh --describe` prints them. */
export async function describeGroups(
  env: NodeJS.ProcessEnv,
  bootstrap: string,
  groups: readonly string[],
  topic: string,
): Promise<{ rows: GroupOffset[]; output: string }> {
  const output = await kafkaTool(
    env,
    CONSUMER_GROUP_COMMAND,
    ['--bootstrap-server', bootstrap, '--describe', '--offsets', ...groups.flatMap((g) => ['--group', g])],
    300_000,
  )
  return { rows: parseGroupDescribe(output, topic), output }
}

/** Share-partition start offsets and lag of share group `group` on `topic`, as `kafka-share-groups.sh --describe --offsets` prints them. */
export async function describeShareOffsets(
  env: NodeJS.ProcessEnv,
  bootstrap: string,
  group: string,
  topic: string,
): Promise<{ rows: ShareOffset[]; output: string }> {
  const output = await kafkaTool(
    env,
    SHARE_GROUP_COMMAND,
    ['--bootstrap-server', bootstrap, '--describe', '--offsets', '--group', group],
    300_000,
  )
  return { rows: parseShareGroupOffsets(output, topic), output }
}

/** Every record of `topic` (`count` of them: the sum of its log ends), read from the beginning. */
export async function readTopic(
  env: NodeJS.ProcessEnv,
  bootstrap: string,
  topic: string,
  count: number,
): Promise<{ records: TopicRecord[]; unreadable: string[] }> {
  if (count === 0) return { records: [], unreadable: [] }
  const output = await kafkaTool(
    env,
    CONSOLE_CONSUMER,
    [
      '--bootstrap-server',
      bootstrap,
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      String(count),
      '--timeout-ms',
      '120000',
      '--formatter-property',
      'print.partition=true',
      '--formatter-property',
      'print.offset=true',
      '--formatter-property',
      'print.key=true',
    ],
    600_000,
  )
  return parseConsoleRecords(output)
}
