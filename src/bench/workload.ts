/**
 * Reads a workload file: YAML → the file contract → one validated configuration per test point
 * (named overrides × the cartesian product of the dimensions). Every issue names the field, the
 * rule and the line it is written on.
 */
import { readFileSync } from 'node:fs'
import { LineCounter, parseDocument } from 'yaml'
import type { z } from 'zod'
import { BenchError, type WorkloadIssue } from './errors.ts'
import {
  type PointConfig,
  pointConfigContract,
  type WorkloadFile,
  workloadFileContract,
} from './workload-schema.ts'
import { locate } from './yaml-locations.ts'

/** One test point: its name, what it changes from the base, and its full configuration. */
export interface TestPoint {
  name: string
  /** The overrides and dimension values that make this point (for reports). */
  set: Record<string, unknown>
  config: PointConfig
}

/** A validated workload. */
export interface Workload {
  name: string
  description: string
  seed?: 'client-local-parallelism'
  /** The file's text, as written (the bundle keeps it; credentials are redacted there). */
  source: string
  /** Where it was read from (for messages). */
  file: string
  points: TestPoint[]
}

type Path = Array<string | number>
type Json = Record<string, unknown>

const isMapping = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Reads and validates a workload file; throws BenchError INVALID_WORKLOAD listing every issue. */
export function loadWorkload(file: string, set: Readonly<Record<string, unknown>> = {}): Workload {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new BenchError('INVALID_WORKLOAD', `${file}: cannot be read (${(error as Error).message})`, {
      cause: error,
    })
  }
  return parseWorkload(text, file, set)
}

/** Validates workload text (YAML); `file` names it in messages. */
/**
 * Validates workload text (YAML); `file` names it in messages. `set` overrides fields of every
 * point (`{ 'producer.measureSeconds': 60 }`, the CLI's `--set`), after the points' own.
 */
export function parseWorkload(
  text: string,
  file = 'workload.yaml',
  set: Readonly<Record<string, unknown>> = {},
): Workload {
  const setting = set
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const fail = (issues: WorkloadIssue[]): never => {
    throw new BenchError(
      'INVALID_WORKLOAD',
      `${file}: invalid workload\n${issues.map((i) => `  ${i.line > 0 ? `${file}:${i.line}:${i.column} ` : ''}${i.field}: ${i.rule}`).join('\n')}`,
      { issues },
    )
  }
  if (doc.errors.length > 0) {
    fail(
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0])
        return { field: '(yaml)', rule: e.message.split('\n')[0] ?? e.message, line, column: col }
      }),
    )
  }
  const raw: unknown = doc.toJS()
  const issueAt = (path: Path, rule: string): WorkloadIssue => {
    const where = locate(doc, lines, path)
    return {
      field: formatPath(path) || '(top level)',
      rule: where.exact ? rule : `${rule} (not set)`,
      line: where.line,
      column: where.column,
    }
  }
  const top = workloadFileContract.safeParse(raw ?? {})
  if (!top.success) fail(top.error.issues.map((i) => issueAt(pathOf(i), ruleOf(i, raw))))
  const file_ = (top as { data: WorkloadFile }).data
  const base: Json = {}
  for (const key of ['target', 'topic', 'producer', 'consumers'] as const) {
    if (file_[key] !== undefined) base[key] = file_[key]
  }

  const named = file_.points ?? [{ name: 'default' }]
  const names = new Set<string>()
  const issues: WorkloadIssue[] = []
  for (const [i, p] of named.entries()) {
    if (names.has(p.name))
      issues.push(issueAt(['points', i, 'name'], `must be unique ("${p.name}" is used twice)`))
    names.add(p.name)
  }
  const dimensions = Object.entries(file_.dimensions ?? {})
  const points: TestPoint[] = []
  for (const [i, point] of named.entries()) {
    const { name, ...override } = point
    for (const combination of product(
      dimensions.map(([key, values]) => values.map((v, j) => ({ key, v, j }))),
    )) {
      let config = merge(base, override)
      const set: Json = { ...flatten(override) }
      const forced = setting
      for (const { key, v } of combination) {
        config = merge(config, unflatten(key, v))
        set[key] = v
      }
      for (const [key, v] of Object.entries(forced)) {
        config = merge(config, unflatten(key, v))
        set[key] = v
      }
      const label = [name, ...combination.map(({ key, v }) => `${key.split('.').at(-1)}=${String(v)}`)].join(
        ',',
      )
      const result = pointConfigContract.safeParse(config)
      if (!result.success) {
        for (const issue of result.error.issues) {
          const path = pathOf(issue)
          const by = Object.keys(forced).find((key) => startsWith(path, key.split('.')))
          if (by !== undefined) {
            issues.push({ field: `--set ${by}`, rule: ruleOf(issue, config), line: 0, column: 0 })
            continue
          }
          const dim = combination.find(({ key }) => startsWith(path, key.split('.')))
          const source: Path = dim
            ? ['dimensions', dim.key, dim.j]
            : writes(override, path)
              ? ['points', i, ...path]
              : file_.points && !writes(base, path)
                ? ['points', i]
                : path
          const found = issueAt(source, ruleOf(issue, config))
          issues.push({ ...found, field: `${file_.points ? `points.${name}: ` : ''}${formatPath(path)}` })
        }
        continue
      }
      points.push({ name: label, set, config: result.data })
    }
  }
  if (issues.length > 0) fail(dedupe(issues))
  return {
    name: file_.name,
    description: file_.description,
    ...(file_.seed ? { seed: file_.seed } : {}),
    source: text,
    file,
    points,
  }
}

function pathOf(issue: z.core.$ZodIssue): Path {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
  // An unknown key's own line is more useful than its parent's.
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) return [...path, issue.keys[0] as string]
  return path
}

/** The rule, and what was found there. */
function ruleOf(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    return `is not a known field (unknown: ${issue.keys.join(', ')})`
  }
  const value = valueAt(
    input,
    issue.path.filter((p): p is string | number => typeof p !== 'symbol'),
  )
  if (value === undefined) return `is required: ${issue.message}`
  return `${issue.message} (got ${show(value)})`
}

function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value)
  return s.length > 60 ? `${s.slice(0, 57)}…` : s
}

function valueAt(input: unknown, path: Path): unknown {
  let v = input
  for (const step of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string | number, unknown>)[step]
  }
  return v
}

/** True when `obj` writes `path`, or replaces a parent of it with a non-mapping. */
function writes(obj: unknown, path: Path): boolean {
  let v = obj
  for (const step of path) {
    if (!isMapping(v) || !(String(step) in v)) return false
    v = v[String(step)]
    if (!isMapping(v)) return true
  }
  return true
}

function startsWith(path: Path, prefix: string[]): boolean {
  return (
    prefix.every((p, i) => String(path[i]) === p) ||
    (path.length < prefix.length && path.every((p, i) => String(p) === prefix[i]))
  )
}

/** Mappings merge key by key; anything else, and a union-valued mapping, replaces. */
function merge(base: Json, over: Json, prefix = ''): Json {
  const out: Json = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const key = prefix ? `${prefix}.${k}` : k
    out[k] = isMapping(v) && isMapping(base[k]) && !isLeafMapping(key) ? merge(base[k] as Json, v, key) : v
  }
  return out
}

function unflatten(dotted: string, value: unknown): Json {
  return dotted
    .split('.')
    .reverse()
    .reduce<unknown>((acc, key) => ({ [key]: acc }), value) as Json
}

function flatten(obj: Json, prefix = ''): Json {
  const out: Json = {}
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (isMapping(v) && !isLeafMapping(key)) Object.assign(out, flatten(v, key))
    else out[key] = v
  }
  return out
}

/** Union-valued mappings (a distribution, a processing time) read better whole. */
function isLeafMapping(key: string): boolean {
  return key.endsWith('.distribution') || key.endsWith('.time') || key === 'target'
}

function product<T>(lists: T[][]): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((a) => list.map((x) => [...a, x])), [[]])
}

function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

function dedupe(issues: WorkloadIssue[]): WorkloadIssue[] {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const key = `${i.line}:${i.column}:${i.field}:${i.rule}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
