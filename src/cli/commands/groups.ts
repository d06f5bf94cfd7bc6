// `multilane groups list|describe`: consumer groups' members, committed offsets, lag and offset
// maps; with --app, one table across a group's parallel segments.
import { Command, InvalidArgumentError } from 'commander'
import { describeAppGroup, describeGroup, listGroups } from '../../admin/groups.ts'
import { BOOTSTRAP_ENV, formatBootstrap, parseBootstrap } from '../../kafka/bootstrap.ts'
import { KafkaCluster } from '../../kafka/cluster.ts'
import { type KafkaConnectionOptions, resolveConnection } from '../../kafka/connection-options.ts'
import { loadAppModule } from '../app-module.ts'
import { describeAppText, describeText, listText } from '../groups-output.ts'
import { targetCluster } from '../target-cluster.ts'
import { commandConnection } from './segments.ts'

function bootstrapFlag(value: string): string {
  try {
    return formatBootstrap(parseBootstrap(value, '--bootstrap'))
  } catch {
    throw new InvalidArgumentError('must be host:port[,host:port…]')
  }
}

const BOOTSTRAP_HELP = `host:port[,…] of the cluster (default: $${BOOTSTRAP_ENV}, else the app's kafka.bootstrap with --app, else the local broker)`

async function withCluster<T>(
  connection: KafkaConnectionOptions,
  run: (cluster: KafkaCluster) => Promise<T>,
): Promise<T> {
  const cluster = new KafkaCluster(resolveConnection(connection))
  try {
    return await run(cluster)
  } finally {
    await cluster.close().catch(() => {})
  }
}

/** `multilane groups …`. */
export function groupsCommand(): Command {
  const groups = new Command('groups').description(
    'consumer groups: members, committed offsets, lag, offset maps',
  )

  groups
    .command('list')
    .description('list the groups of the cluster with their type (consumer, classic, share, …) and state')
    .option('--bootstrap <servers>', BOOTSTRAP_HELP, bootstrapFlag)
    .option('--json', 'print as JSON: [{ group, type, protocolType, state }]')
    .action(async (opts: { bootstrap?: string; json?: boolean }) => {
      const target = await targetCluster(opts.bootstrap)
      const list = await withCluster(
        { bootstrap: target.bootstrap, clientId: 'multilane-groups' },
        listGroups,
      )
      process.stdout.write(opts.json ? `${JSON.stringify(list)}\n` : listText(list, target.bootstrap))
    })

  groups
    .command('describe')
    .description(
      'members and their assignments, and per partition the committed offset, log end, lag and the number of ' +
        'records above the committed offset that the offset map records as done; with --app, one table across ' +
        "the group's parallel segments (and every partition of its topics)",
    )
    .argument('<group>', 'the group (with --app: the consumer group name the app defines, its origin name)')
    .option(
      '--app <module>',
      "the app module whose consumer group this is (its segments' groups are described)",
    )
    .option('--bootstrap <servers>', BOOTSTRAP_HELP, bootstrapFlag)
    .option(
      '--json',
      'print as JSON (GroupDescription, or with --app { origin, segmentCount, groups, totalLag })',
    )
    .action(async (group: string, opts: { app?: string; bootstrap?: string; json?: boolean }) => {
      if (opts.app !== undefined) {
        const app = (await loadAppModule(opts.app)).definition()
        const connection = { ...commandConnection(app, opts.bootstrap), clientId: 'multilane-groups' }
        const described = await withCluster(connection, (c) => describeAppGroup(c, app, group))
        process.stdout.write(opts.json ? `${JSON.stringify(described)}\n` : describeAppText(described))
        return
      }
      const target = await targetCluster(opts.bootstrap)
      const described = await withCluster(
        { bootstrap: target.bootstrap, clientId: 'multilane-groups' },
        (c) => describeGroup(c, group),
      )
      process.stdout.write(opts.json ? `${JSON.stringify(described)}\n` : describeText(described))
    })

  return groups
}
