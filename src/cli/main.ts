import { Command, CommanderError } from 'commander'
import { packageInfo } from '../package-info.ts'
import { benchCommand } from './commands/bench.ts'
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
  program.addCommand(kafkaCommand())
  program.addCommand(topicsCommand())
  program.addCommand(shareCommand())
  program.addCommand(segmentsCommand())
  program.addCommand(runCommand())
  program.addCommand(benchCommand())
  // Every level, so a usage error anywhere ends in main()'s exit code 2 (not commander's exit 1).
  const configure = (command: Command): void => {
    command.exitOverride().showHelpAfterError()
    for (const sub of command.commands) configure(sub)
  }
  configure(program)
  return program
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
