// Minimal `--name value` flag parsing for the throughput benchmark scripts. Invalid input is a
// UsageError naming the flag; `exitOnUsageError` turns it into a message and exit code 2.

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
  description: string
}

export type FlagValue = number | string | string[]

/**
 * Parses `--name value` and `--name=value` pairs. Every flag must be declared in `specs`, may be
 * given once, and must have a value. Integers accept `1000000`, `1_000_000` and `1e6`.
 */
export function parseFlags(argv: readonly string[], specs: Record<string, FlagSpec>): Map<string, FlagValue> {
  const out = new Map<string, FlagValue>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--'))
      throw new UsageError(`unexpected argument "${arg}" (flags look like --name value)`)
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    const spec = specs[name]
    if (!spec) {
      const known = Object.keys(specs)
        .map((k) => `--${k}`)
        .join(', ')
      throw new UsageError(`unknown flag --${name} (known flags: ${known})`)
    }
    if (out.has(name)) throw new UsageError(`--${name} is given more than once`)
    let raw: string | undefined
    if (eq !== -1) raw = arg.slice(eq + 1)
    else {
      raw = argv[i + 1]
      if (raw === undefined || raw.startsWith('--')) throw new UsageError(`--${name} needs a value`)
      i++
    }
    out.set(name, convert(name, raw, spec))
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

/** One usage line per flag, for error messages and `--help`. */
export function usage(command: string, specs: Record<string, FlagSpec>): string {
  const lines = Object.entries(specs).map(([name, spec]) => `  --${name.padEnd(12)} ${spec.description}`)
  return `usage: ${command} [flags]\n${lines.join('\n')}`
}

/**
 * Parses `argv` against `specs` and runs `main` with the flags, setting the exit code it returns.
 * `--help` prints the usage; a UsageError prints its message and the usage and exits with code 2.
 */
export async function runCli(
  command: string,
  specs: Record<string, FlagSpec>,
  argv: readonly string[],
  main: (flags: Map<string, FlagValue>) => Promise<number>,
): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage(command, specs)}\n`)
    return
  }
  try {
    process.exitCode = await main(parseFlags(argv, specs))
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${command}: ${error.message}\n${usage(command, specs)}\n`)
      process.exitCode = 2
      return
    }
    throw error
  }
}
