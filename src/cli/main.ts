import { Command, CommanderError, type Option } from 'commander'
import { packageInfo } from '../package-info.ts'
import { benchCommand } from './commands/bench.ts'
import { groupsCommand } from './commands/groups.ts'
import { kafkaCommand } from './commands/kafka.ts'
import { runCommand } from './commands/run.ts'
import { segmentsCommand } from './commands/segments.ts'
import { shareCommand } from './commands/share.ts'
import { topicsCommand } from './commands/topics.ts'
import { EXIT_FAILURE, EXIT_USAGE } from './exit-codes.ts'

/** Builds the `multilane` command tree. The CLI stays thin: parse, call the library, print. */
export function buildProgram(): Command {
  const program = new Command('multilane')
    .description('Kafka consumers with more parallelism than partitions give')
    .version(packageInfo()?.version ?? 'unknown (package.json not found)', '-v, --version')
    // `multilane --version` before a command; after one, `--version` is that command's own
    // option (`kafka start --version 3.9.1`).
    .enablePositionalOptions()
  program.addCommand(kafkaCommand())
  program.addCommand(topicsCommand())
  program.addCommand(shareCommand())
  program.addCommand(segmentsCommand())
  program.addCommand(groupsCommand())
  program.addCommand(runCommand())
  program.addCommand(benchCommand())
  // Every level, so a usage error anywhere ends in main()'s exit code 2 (not commander's exit 1).
  const configure = (command: Command): void => {
    command.exitOverride().showHelpAfterError()
    suggestBeforeMissing(command)
    for (const sub of command.commands) configure(sub)
  }
  configure(program)
  return program
}

/** The commander methods (not in its typings) that report a missing required option and an unknown one. */
interface UsageReports {
  missingMandatoryOptionValue(option: Option): void
  unknownOption(flag: string): void
}

/**
 * Commander checks required options before unknown ones, so `--partitoins 3` said only that
 * `--partitions` was missing. An unknown option is reported first (with "Did you mean …?"):
 * it is most likely the required one, mistyped. (test/unit/cli/option-typos.test.ts pins this.)
 */
function suggestBeforeMissing(command: Command): void {
  const reports = command as unknown as UsageReports
  const missing = reports.missingMandatoryOptionValue.bind(command)
  reports.missingMandatoryOptionValue = (option) => {
    const unknown = command.args.find((a) => a.startsWith('-') && a !== '-' && a !== '--')
    if (unknown) reports.unknownOption(unknown.split('=')[0]!)
    missing(option)
  }
}

/** Runs the CLI; exit code 0 ok, 1 failure, 2 usage error. */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE
      return
    }
    const err = error as Error & { code?: string }
    process.stderr.write(`multilane: ${err.code ? `[${err.code}] ` : ''}${err.message}\n`)
    process.exitCode = EXIT_FAILURE
  }
}
