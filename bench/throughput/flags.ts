// `--name value` flags of the benchmark scripts, declared as specs and parsed by commander. Invalid
// input is a UsageError naming the flag and the rule; `runCli` turns it into a message, the usage
// and exit code 2.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'

export class UsageError extends Error {
  override name = 'UsageError'
}

export type FlagKind = 'int' | 'string' | 'list'

export interface FlagSpec {
  kind: FlagKind
  /** Smallest allowed value for an `int` flag. */
  min?: number
  /** Largest allowed value for an `int` flag. */
  max?: number
  /** Allowed entries for a `list` flag (comma-separated). */
  choices?: readonly string[]
  /** The flag must be given. */
  required?: boolean
  description: string
}

export type FlagValue = number | string | string[]

const PLACEHOLDER: Record<FlagKind, string> = { int: '<n>', string: '<value>', list: '<a,b,…>' }

/** Thrown by `parseFlags` for `--help` / `-h`; carries the usage text. */
export class HelpRequested extends Error {
  override name = 'HelpRequested'
}

function buildCommand(command: string, specs: Record<string, FlagSpec>): Command {
  const program = new Command(command)
    .usage('[flags]')
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    // Errors and help come back as exceptions; runCli decides what to print.
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
  for (const [name, spec] of Object.entries(specs)) {
    const seen = { given: false }
    const option = new Option(`--${name} ${PLACEHOLDER[spec.kind]}`, spec.description).argParser(
      (raw: string) => {
        if (seen.given) throw new InvalidArgumentError(`--${name} is given more than once`)
        seen.given = true
        try {
          return convert(name, raw, spec)
        } catch (error) {
          // commander prefixes "option '--name <n>' argument 'raw' is invalid."
          throw error instanceof UsageError ? new InvalidArgumentError(error.message) : error
        }
      },
    )
    if (spec.required) option.makeOptionMandatory()
    program.addOption(option)
  }
  return program
}

/**
 * Parses `--name value` and `--name=value` pairs with commander. Every flag must be declared in
 * `specs`, may be given once, and must have a value; positional arguments are refused. Integers
 * accept `1000000`, `1_000_000` and `1e6`. Throws UsageError (naming the flag) or HelpRequested.
 */
export function parseFlags(
  argv: readonly string[],
  specs: Record<string, FlagSpec>,
  command = 'bench',
): Map<string, FlagValue> {
  const program = buildCommand(command, specs)
  try {
    program.parse([...argv], { from: 'user' })
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help')
        throw new HelpRequested(program.helpInformation())
      throw new UsageError(error.message.replace(/^error: /, ''))
    }
    throw error
  }
  const options = program.opts<Record<string, FlagValue | undefined>>()
  const out = new Map<string, FlagValue>()
  for (const option of program.options) {
    const value = options[option.attributeName()]
    if (value !== undefined) out.set(option.long!.slice(2), value)
  }
  return out
}

function convert(name: string, raw: string, spec: FlagSpec): FlagValue {
  const text = raw.trim()
  if (spec.kind === 'string') {
    if (text === '') throw new UsageError(`--${name} must not be empty`)
    return text
  }
  if (spec.kind === 'list') {
    const entries = text
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
    if (entries.length === 0) throw new UsageError(`--${name} needs at least one entry`)
    for (const entry of entries) {
      if (spec.choices && !spec.choices.includes(entry)) {
        throw new UsageError(`--${name}: unknown entry "${entry}" (choose from ${spec.choices.join(', ')})`)
      }
    }
    return [...new Set(entries)]
  }
  const value = /^[0-9][0-9_]*(e[0-9]+)?$/i.test(text) ? Number(text.replaceAll('_', '')) : Number.NaN
  if (!Number.isSafeInteger(value)) throw new UsageError(`--${name} must be a whole number, got "${raw}"`)
  if (spec.min !== undefined && value < spec.min)
    throw new UsageError(`--${name} must be ≥ ${spec.min}, got ${value}`)
  if (spec.max !== undefined && value > spec.max)
    throw new UsageError(`--${name} must be ≤ ${spec.max}, got ${value}`)
  return value
}

export function intFlag(flags: Map<string, FlagValue>, name: string, fallback: number): number {
  const v = flags.get(name)
  return typeof v === 'number' ? v : fallback
}

export function stringFlag(flags: Map<string, FlagValue>, name: string): string | undefined {
  const v = flags.get(name)
  return typeof v === 'string' ? v : undefined
}

export function listFlag(flags: Map<string, FlagValue>, name: string): string[] | undefined {
  const v = flags.get(name)
  return Array.isArray(v) ? v : undefined
}

/** The usage text commander makes from the specs (for error messages and `--help`). */
export function usage(command: string, specs: Record<string, FlagSpec>): string {
  return buildCommand(command, specs).helpInformation()
}

/**
 * Parses `argv` against `specs` and runs `main` with the flags, setting the exit code it returns.
 * `--help` prints the usage; a UsageError (from parsing or from `main`) prints its message and
 * the usage and exits with code 2.
 */
export async function runCli(
  command: string,
  specs: Record<string, FlagSpec>,
  argv: readonly string[],
  main: (flags: Map<string, FlagValue>) => Promise<number>,
): Promise<void> {
  try {
    process.exitCode = await main(parseFlags(argv, specs, command))
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(error.message)
      return
    }
    if (error instanceof UsageError) {
      process.stderr.write(`${command}: ${error.message}\n${usage(command, specs)}`)
      process.exitCode = 2
      return
    }
    throw error
  }
}
