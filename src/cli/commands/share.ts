import { Command, InvalidArgumentError } from 'commander'
import {
  configureShareGroup,
  describeShareGroup,
  type ShareGroupConfigs,
  type ShareGroupDescription,
} from '../../admin/share.ts'
import { BOOTSTRAP_ENV, parseBootstrap } from '../../kafka/bootstrap.ts'
import type { KafkaConnectionOptions } from '../../kafka/connection-options.ts'
import { loadAppModule } from '../app-module.ts'
import { targetCluster } from '../target-cluster.ts'
import { commandConnection } from './segments.ts'

function positiveInteger(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError('must be a positive integer')
  }
  return n
}

function offsetReset(value: string): string {
  if (!/^(earliest|latest|by_duration:P\S+)$/.test(value)) {
    throw new InvalidArgumentError('must be earliest, latest or by_duration:<ISO-8601 duration, e.g. PT1H>')
  }
  return value
}

function bootstrapList(value: string): string {
  try {
    parseBootstrap(value, '--bootstrap')
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--bootstrap: /, ''))
  }
  return value
}

/**
 * The cluster: with --app the app's connection (TLS, SASL, timeouts; --bootstrap or
 * KAFKA_BOOTSTRAP_SERVERS replace its bootstrap, as for `segments`); else --bootstrap, else
 * KAFKA_BOOTSTRAP_SERVERS, else the running local broker.
 */
async function kafkaOf(bootstrap: string | undefined, appModule?: string): Promise<KafkaConnectionOptions> {
  if (appModule !== undefined) {
    const app = (await loadAppModule(appModule)).definition()
    return { ...commandConnection(app, bootstrap), clientId: 'multilane-cli' }
  }
  const cluster = await targetCluster(bootstrap)
  return {
    bootstrap: cluster.bootstrap,
    clientId: 'multilane-cli',
    requestTimeoutMs: 15_000,
    connectTimeoutMs: 5000,
  }
}

/** Left-aligned columns, two spaces apart. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** The `share describe` text: the group, its members, its share-partitions (with what the offsets mean), its configs. */
export function formatDescription(d: ShareGroupDescription): string {
  const out = [
    `share group ${d.groupId}: ${d.state || 'unknown state'}, ${d.members.length} member${d.members.length === 1 ? '' : 's'}, ` +
      `group epoch ${d.groupEpoch}, assignment epoch ${d.assignmentEpoch}, assignor ${d.assignor || '-'}`,
    '',
  ]
  if (d.members.length === 0) out.push('no active members')
  else {
    out.push(
      table(
        ['MEMBER-ID', 'CLIENT-ID', 'HOST', 'EPOCH', 'ASSIGNMENT'],
        d.members.map((m) => {
          const byTopic = new Map<string, number[]>()
          for (const tp of m.assignment)
            byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition])
          const assignment = [...byTopic].map(([t, ps]) => `${t}:${ps.join(',')}`).join(';') || '-'
          return [m.memberId, m.clientId, m.clientHost, String(m.memberEpoch), assignment]
        }),
      ),
    )
  }
  out.push('')
  if (d.partitions.length === 0) out.push('no share-partition state yet (nothing fetched)')
  else {
    const show = (n: number | null) => (n === null ? '-' : String(n))
    out.push(
      table(
        ['TOPIC', 'PARTITION', 'START-OFFSET', 'END-OFFSET', 'LAG'],
        d.partitions.map((p) => [
          p.topic,
          String(p.partition),
          show(p.startOffset),
          show(p.endOffset),
          show(p.lag),
        ]),
      ),
      '',
      'START-OFFSET: every record below it is done (acknowledged, released for good, rejected or archived);',
      'from it on, records may be in flight or already done out of order. LAG: records from the start',
      'offset to the log end not yet done, as the broker counts them (Kafka ≥ 4.3; before: END − START,',
      'which also counts records done above the start offset). A share group has no committed offset.',
    )
  }
  const configs = Object.entries(d.configs).sort(([a], [b]) => a.localeCompare(b))
  if (configs.length > 0) out.push('', `configs: ${configs.map(([k, v]) => `${k}=${v}`).join(', ')}`)
  return `${out.join('\n')}\n`
}

/** `multilane share describe|configure <group>`: share-group administration. */
export function shareCommand(): Command {
  const share = new Command('share').description('inspect and configure share groups (KIP-932)')

  share
    .command('describe')
    .description('members, assignment, start offsets and lag of a share group')
    .argument('<group>', 'share group id')
    .option(
      '--bootstrap <servers>',
      `host:port[,…] (default: $${BOOTSTRAP_ENV}, else the local broker)`,
      bootstrapList,
    )
    .option(
      '--app <module>',
      "take the connection (TLS, SASL, timeouts) from this app module's kafka options (--bootstrap or $KAFKA_BOOTSTRAP_SERVERS still replace its bootstrap)",
    )
    .option('--json', 'print as JSON')
    .action(async (group: string, opts: { bootstrap?: string; app?: string; json?: boolean }) => {
      const description = await describeShareGroup(await kafkaOf(opts.bootstrap, opts.app), group)
      process.stdout.write(opts.json ? `${JSON.stringify(description)}\n` : formatDescription(description))
    })

  share
    .command('configure')
    .description(
      'set share-group configs (IncrementalAlterConfigs on the GROUP resource); the group need not exist yet',
    )
    .argument('<group>', 'share group id')
    .option(
      '--auto-offset-reset <where>',
      'where a member starts without group state: earliest, latest or by_duration:<ISO-8601>',
      offsetReset,
    )
    .option(
      '--lock-duration-ms <ms>',
      'acquisition lock duration (share.record.lock.duration.ms)',
      positiveInteger,
    )
    .option(
      '--delivery-count-limit <n>',
      'deliveries before a record is archived (share.delivery.count.limit)',
      positiveInteger,
    )
    .option(
      '--dead-letter-topic <topic>',
      "the broker's dead letter topic for rejected records (errors.deadletterqueue.topic.name; Kafka ≥ 4.4, share.version 2); '' turns it off",
    )
    .option(
      '--dead-letter-copy-record',
      'with --dead-letter-topic: copy key and value too, not only metadata',
    )
    .option(
      '--bootstrap <servers>',
      `host:port[,…] (default: $${BOOTSTRAP_ENV}, else the local broker)`,
      bootstrapList,
    )
    .option(
      '--app <module>',
      "take the connection (TLS, SASL, timeouts) from this app module's kafka options (--bootstrap or $KAFKA_BOOTSTRAP_SERVERS still replace its bootstrap)",
    )
    .option('--json', 'print what was set as JSON')
    .action(
      async (
        group: string,
        opts: {
          autoOffsetReset?: string
          lockDurationMs?: number
          deliveryCountLimit?: number
          deadLetterTopic?: string
          deadLetterCopyRecord?: boolean
          bootstrap?: string
          app?: string
          json?: boolean
        },
        command: Command,
      ) => {
        const settings: ShareGroupConfigs = {}
        if (opts.autoOffsetReset !== undefined) settings.autoOffsetReset = opts.autoOffsetReset
        if (opts.lockDurationMs !== undefined) settings.recordLockDurationMs = opts.lockDurationMs
        if (opts.deliveryCountLimit !== undefined) settings.deliveryCountLimit = opts.deliveryCountLimit
        if (opts.deadLetterTopic !== undefined) settings.deadLetterTopic = opts.deadLetterTopic
        if (opts.deadLetterCopyRecord) settings.deadLetterCopyRecord = true
        if (Object.keys(settings).length === 0) {
          command.error(
            'error: nothing to configure: give --auto-offset-reset, --lock-duration-ms, --delivery-count-limit or --dead-letter-topic',
            { exitCode: 2, code: 'multilane.nothingToConfigure' },
          )
        }
        const set = await configureShareGroup(await kafkaOf(opts.bootstrap, opts.app), group, settings)
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ groupId: group, set })}\n`
            : `share group ${group}: set ${Object.entries(set)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}\n`,
        )
      },
    )

  return share
}
