// `multilane segments distribute|collapse|reset|check --app <module>`: the offset commands of
// parallel segments (migration, count changes, recovery) and the routing check.
import { Command, InvalidArgumentError, Option } from 'commander'
import { type OffsetCommand, runOffsetCommand } from '../../admin/segment-offsets/command.ts'
import { checkSegments } from '../../admin/segments-check.ts'
import type { AppDefinition } from '../../app/definition.ts'
import { BOOTSTRAP_ENV, formatBootstrap, parseBootstrap } from '../../kafka/bootstrap.ts'
import type { KafkaConnectionOptions } from '../../kafka/connection-options.ts'
import { loadAppModule } from '../app-module.ts'
import { EXIT_FAILURE } from '../exit-codes.ts'
import {
  activeGroupLine,
  checkText,
  NO_SEGMENTED_GROUPS,
  offsetCommandJson,
  offsetCommandText,
} from '../segments-output.ts'

function bootstrapFlag(value: string): string {
  try {
    return formatBootstrap(parseBootstrap(value, '--bootstrap'))
  } catch {
    throw new InvalidArgumentError('must be host:port[,host:port…]')
  }
}

function sampleSize(value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be an integer ≥ 1')
  }
  return n
}

/**
 * The app's connection, its bootstrap replaced by --bootstrap, else $KAFKA_BOOTSTRAP_SERVERS
 * (TLS, SASL and timeouts stay the app's).
 */
export function commandConnection(app: AppDefinition, flag: string | undefined): KafkaConnectionOptions {
  const fromEnv = process.env[BOOTSTRAP_ENV]?.trim()
  const bootstrap = flag ?? (fromEnv ? formatBootstrap(parseBootstrap(fromEnv, BOOTSTRAP_ENV)) : undefined)
  return { ...app.settings.kafka, clientId: 'multilane-segments', ...(bootstrap ? { bootstrap } : {}) }
}

interface CommonOptions {
  app: string
  groups?: string[]
  bootstrap?: string
  json?: boolean
}

const APP_HELP = 'the module whose default export is the app (.ts or .js, relative to the working directory)'
const GROUPS_HELP = 'only these consumer groups (origin names; default: every group with parallel segments)'
const BOOTSTRAP_HELP = `host:port[,…] of the cluster (default: $${BOOTSTRAP_ENV}, else the app's kafka.bootstrap)`

function offsetCommand(name: OffsetCommand, description: string): Command {
  return new Command(name)
    .description(description)
    .requiredOption('--app <module>', APP_HELP)
    .option('--groups <names...>', GROUPS_HELP)
    .option('--force', 'write even when the checks refuse (segments with offsets; differing segment offsets)')
    .option('--dry-run', 'print the before/after table and write nothing')
    .option('--bootstrap <servers>', BOOTSTRAP_HELP, bootstrapFlag)
    .option('--json', 'print the report as JSON')
    .action(async (opts: CommonOptions & { force?: boolean; dryRun?: boolean }) => {
      const app = (await loadAppModule(opts.app)).definition()
      const report = await runOffsetCommand(app, commandConnection(app, opts.bootstrap), name, {
        groups: opts.groups,
        force: opts.force === true,
        dryRun: opts.dryRun === true,
      })
      if (opts.json) process.stdout.write(offsetCommandJson(report))
      if (report.noSegmentedGroups) {
        if (!opts.json) process.stdout.write(`${NO_SEGMENTED_GROUPS}\n`)
        return
      }
      if (report.activeGroups.length > 0) {
        if (!opts.json) for (const g of report.activeGroups) process.stderr.write(`${activeGroupLine(g)}\n`)
        process.exitCode = EXIT_FAILURE
        return
      }
      if (report.refused) {
        if (!opts.json)
          for (const g of report.groups) for (const p of g.plan.problems) process.stderr.write(`${p}\n`)
        process.exitCode = EXIT_FAILURE
      }
      if (!opts.json && (!report.refused || report.dryRun)) process.stdout.write(offsetCommandText(report))
      else if (!opts.json)
        process.stderr.write('nothing written (pass --force to write anyway, --dry-run to see the plan)\n')
    })
}

/** `multilane segments …`. */
export function segmentsCommand(): Command {
  const segments = new Command('segments').description(
    'offsets and routing of parallel segments: distribute, collapse, reset, check',
  )
  segments.addCommand(
    offsetCommand(
      'distribute',
      "copy each origin group's committed offsets and offset maps to its segment groups (migration to segments); " +
        'refuses segments that have offsets > 0 unless --force',
    ),
  )
  segments.addCommand(
    offsetCommand(
      'collapse',
      'give each origin group the offsets its segments reached, exactly: the lowest offset plus an offset map of ' +
        'the records their segments already processed (records are read to decide); refuses differing segment ' +
        'offsets unless --force',
    ),
  )
  segments.addCommand(
    offsetCommand('reset', 'collapse, then distribute the result; both checked before anything is written'),
  )
  segments.addCommand(
    new Command('check')
      .description(
        'route a sample of recent records as the segments would: records, share and distinct keys per segment, ' +
          'idle and overloaded segments, and the default and Karafka reducers on the same sample (commits nothing)',
      )
      .requiredOption('--app <module>', APP_HELP)
      .option('--groups <names...>', GROUPS_HELP)
      .addOption(
        new Option('--sample <n>', 'recent records read per partition').argParser(sampleSize).default(1000),
      )
      .option('--bootstrap <servers>', BOOTSTRAP_HELP, bootstrapFlag)
      .option('--json', 'print the report as JSON')
      .action(async (opts: CommonOptions & { sample: number }) => {
        const app = (await loadAppModule(opts.app)).definition()
        const report = await checkSegments(app, commandConnection(app, opts.bootstrap), {
          groups: opts.groups,
          sample: opts.sample,
        })
        if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`)
        else process.stdout.write(report.noSegmentedGroups ? `${NO_SEGMENTED_GROUPS}\n` : checkText(report))
      }),
  )
  return segments
}
