import { z } from 'zod'
import { describeValue, quote } from '../describe-value.ts'
import { MultilaneError } from '../errors.ts'

/** One broken rule: where (`consumerGroup "g" › topic "t" › processing.capacity`) and what. */
export interface ConfigurationIssue {
  path: string
  message: string
}

/** The application definition is invalid. The message has one line per issue. */
export class ConfigurationError extends MultilaneError<'INVALID_CONFIGURATION'> {
  readonly issues: ConfigurationIssue[]

  constructor(issues: ConfigurationIssue[]) {
    super('INVALID_CONFIGURATION', issues.map(formatIssue).join('\n'))
    this.issues = issues
  }
}

/** `path: message` (just the message when there is no path). */
export function formatIssue(issue: ConfigurationIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message
}

/** Joins location parts with ` › ` (empty parts are skipped). */
export function joinLocation(...parts: string[]): string {
  return parts.filter(Boolean).join(' › ')
}

/** `consumerGroup "name"`, `topic "name"`: a quoted, length-capped label for a location. */
export function label(kind: string, name: unknown): string {
  return `${kind} ${typeof name === 'string' ? quote(name) : describeValue(name)}`
}

/**
 * Marks a custom issue whose message already shows the offending value, so no `(got …)` is
 * appended: pass as `params` of `ctx.addIssue`.
 */
export const SHOWS_INPUT = { showsInput: true } as const

/** Where issues of one validation are reported. */
export interface IssueLocation {
  /** Human location, e.g. `consumerGroup "g" › topic "t"`. */
  location: string
  /** Field path the input sits at (e.g. `['options']` for `g.options({...})`). */
  prefix?: ReadonlyArray<string | number>
  /** Keys left out of "known options" lists (e.g. a topic's name, which is an argument). */
  hiddenKeys?: readonly string[]
}

/** Validates `input` with `contract`; on failure returns issues located at `where`. */
export function validate<Output>(
  contract: z.ZodType<Output>,
  input: unknown,
  where: IssueLocation,
): { ok: true; value: Output } | { ok: false; issues: ConfigurationIssue[] } {
  const result = contract.safeParse(input)
  if (result.success) return { ok: true, value: result.data }
  return { ok: false, issues: issuesFromZod(result.error, input, where, contract) }
}

/**
 * Turns a zod error into issues at `where`, each naming its field and showing the value it got
 * (briefly; secrets redacted). `input` is what was parsed; `contract` (optional) lets an unknown
 * option list the known ones.
 */
export function issuesFromZod(
  error: z.ZodError,
  input: unknown,
  where: IssueLocation,
  contract?: z.ZodType,
): ConfigurationIssue[] {
  const prefix = where.prefix ?? []
  const locate = (path: ReadonlyArray<string | number>) =>
    joinLocation(where.location, formatPath([...prefix, ...path]))
  const issues: ConfigurationIssue[] = []
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
    if (issue.code === 'unrecognized_keys') {
      const hidden = new Set(where.hiddenKeys)
      const known = contract ? knownKeys(contract, path).filter((k) => !hidden.has(k)) : []
      for (const key of issue.keys)
        issues.push({ path: locate([...path, key]), message: unknownOption(key, known) })
      continue
    }
    const showsInput = (issue as { params?: Record<string, unknown> }).params?.showsInput === true
    const value = valueAt(input, path)
    const message = showsInput ? issue.message : `${issue.message} ${received([...prefix, ...path], value)}`
    issues.push({ path: locate(path), message })
  }
  return issues
}

/** `processing.capacity`, `bootstrap[1]`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p
  return out
}

// Anything under these keys may be a credential: never print it (tls.key is a private key).
const SECRET_KEY = /^(sasl|password|passphrase|secret|token|key|pfx|credentials?)$/i
const PUBLIC_SASL_FIELDS = new Set(['mechanism', 'username'])

function received(path: ReadonlyArray<string | number>, value: unknown): string {
  if (value === undefined) return '(missing)'
  const last = path.at(-1)
  const secret = path.some((p) => typeof p === 'string' && SECRET_KEY.test(p))
  if (secret && !(typeof last === 'string' && PUBLIC_SASL_FIELDS.has(last))) return '(got [redacted])'
  return `(got ${describeValue(value)})`
}

function valueAt(input: unknown, path: ReadonlyArray<string | number>): unknown {
  let value = input
  for (const p of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string | number, unknown>)[p]
  }
  return value
}

function unknownOption(key: string, known: string[]): string {
  if (known.length === 0) return 'unknown option'
  const close = closest(key, known)
  if (close) return `unknown option; did you mean "${close}"?`
  return `unknown option (known: ${known.join(', ')})`
}

/** The keys of the object schema at `path` inside `schema`, looking through wrappers. */
function knownKeys(schema: z.ZodType, path: ReadonlyArray<string | number>): string[] {
  let current: z.ZodType | undefined = unwrap(schema)
  for (const p of path) {
    if (!(current instanceof z.ZodObject) || typeof p !== 'string') return []
    current = unwrap(current.shape[p] as z.ZodType | undefined)
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : []
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema
  for (let i = 0; i < 10 && current; i++) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodNullable
    ) {
      current = current.unwrap() as z.ZodType
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType
    } else {
      return current
    }
  }
  return current
}

// A typo is at most two edits away (or differs only in case); farther keys are not suggested.
function closest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of candidates) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost)
    }
    prev = row
  }
  return prev[b.length]!
}
