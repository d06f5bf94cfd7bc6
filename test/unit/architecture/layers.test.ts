// src/ is layered: a module imports only its own folder's layer and the layers below it, top-level
// folders never import each other in a cycle, and no module runs past 450 lines. A failure names
// the file and the import (or the file and its length). docs/architecture.md explains the layers.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { test } from 'node:test'

const repo = resolve(import.meta.dirname, '../../..')
const src = join(repo, 'src')

/**
 * Top-level folders (and files directly in src/) from the bottom layer to the top. A module may
 * import modules of its own layer and of the layers below; never one above.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['error-codes.ts', 'describe-value.ts', 'package-info.ts'],
  ['errors.ts'],
  ['node-version.ts'],
  ['kafka'],
  ['engine', 'devkafka', 'producing'],
  ['instrumentation'],
  ['processing'],
  ['segments'],
  ['app'],
  ['admin'],
  ['testing', 'bench'],
  ['cli'],
  ['index.ts'],
]

const MAX_LINES = 450

/** Modules allowed past MAX_LINES, each with the reason (none today; the check fails once one is split). */
const LONG_MODULES: ReadonlySet<string> = new Set<string>()

const layerOf = new Map(LAYERS.flatMap((names, layer) => names.map((name) => [name, layer] as const)))

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? tsFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  )
}

/** The top-level folder of a file under src/, or the file's own name when it sits in src/. */
function topOf(file: string): string {
  return relative(src, file).split(sep)[0]!
}

// Static imports and re-exports (`import … from`, `export … from`, `import '…'`) start a line;
// dynamic ones (`import('…')`, `typeof import('…')`) may sit anywhere. Only relative specifiers
// name modules of src/.
const IMPORT_PATTERNS = [
  /^\s*(?:import|export)\b[\w$*{},\s]*?\bfrom\s*(['"])(\.{1,2}\/[^'"]+)\1/gm,
  /^\s*import\s*(['"])(\.{1,2}\/[^'"]+)\1/gm,
  /\bimport\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g,
]

interface Import {
  /** The importing file, relative to the repository. */
  file: string
  specifier: string
  from: string
  to: string
}

/** Every import of one src/ module by another that crosses a top-level folder. */
function crossingImports(): Import[] {
  const imports: Import[] = []
  for (const path of tsFiles(src)) {
    const text = readFileSync(path, 'utf8')
    const specifiers = new Set(IMPORT_PATTERNS.flatMap((p) => [...text.matchAll(p)].map((m) => m[2]!)))
    for (const specifier of specifiers) {
      const target = resolve(dirname(path), specifier)
      if (relative(src, target).startsWith('..')) continue // outside src/ (package.json)
      const from = topOf(path)
      const to = topOf(target)
      if (from !== to) imports.push({ file: relative(repo, path), specifier, from, to })
    }
  }
  return imports
}

const imports = crossingImports()

test('every top-level folder and file of src/ has a layer', () => {
  // A folder without modules (left behind by a checkout) is no layer's business.
  const tops = new Set(tsFiles(src).map(topOf))
  const unplaced = [...tops].filter((name) => !layerOf.has(name))
  assert.deepEqual(unplaced, [], 'add each to LAYERS in test/unit/architecture/layers.test.ts')
})

test('no import runs upward: a folder imports only its own layer and the layers below', () => {
  const upward = imports
    .filter((i) => (layerOf.get(i.to) ?? -1) > (layerOf.get(i.from) ?? Number.MAX_SAFE_INTEGER))
    .map((i) => `${i.file} imports '${i.specifier}': ${i.from} sits below ${i.to}`)
  assert.deepEqual(upward, [])
})

test('no two top-level folders import each other, directly or through others', () => {
  const next = new Map<string, Set<string>>()
  for (const i of imports) next.set(i.from, (next.get(i.from) ?? new Set()).add(i.to))
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>()
    const stack = [from]
    while (stack.length > 0) {
      const at = stack.pop()!
      if (at === to) return true
      if (seen.has(at)) continue
      seen.add(at)
      stack.push(...(next.get(at) ?? []))
    }
    return false
  }
  const onCycle = imports
    .filter((i) => reaches(i.to, i.from))
    .map((i) => `${i.file} imports '${i.specifier}': ${i.to} also reaches ${i.from}`)
  assert.deepEqual(onCycle, [])
})

test('no two modules of src/ import each other, directly or through others', () => {
  // Type-only imports count too: a cycle of types is a missing leaf module.
  const next = new Map<string, string[]>()
  for (const path of tsFiles(src)) {
    const text = readFileSync(path, 'utf8')
    const targets = IMPORT_PATTERNS.flatMap((p) =>
      [...text.matchAll(p)].map((m) => resolve(dirname(path), m[2]!)),
    )
    next.set(
      path,
      targets.filter((t) => !relative(src, t).startsWith('..')),
    )
  }
  // Depth-first search; a module met again while still on the path closes a cycle.
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[] = []
  const visit = (at: string, path: string[]): void => {
    state.set(at, 'open')
    for (const to of next.get(at) ?? []) {
      if (state.get(to) === 'open') {
        const loop = [...path.slice(path.indexOf(to)), at, to].map((f) => relative(repo, f))
        cycles.push(`${[...new Set(loop)].join(' -> ')} -> ${relative(repo, to)}`)
      } else if (!state.has(to)) visit(to, [...path, at])
    }
    state.set(at, 'done')
  }
  for (const file of next.keys()) if (!state.has(file)) visit(file, [])
  assert.deepEqual(cycles, [], 'move what the modules share into a leaf module')
})

test(`no module of src/ is longer than ${MAX_LINES} lines`, () => {
  const problems: string[] = []
  const files = new Set(tsFiles(src).map((path) => relative(repo, path).split(sep).join('/')))
  for (const file of files) {
    const text = readFileSync(join(repo, file), 'utf8')
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    if (lines > MAX_LINES && !LONG_MODULES.has(file)) problems.push(`${file} has ${lines} lines: split it`)
    if (lines <= MAX_LINES && LONG_MODULES.has(file))
      problems.push(`${file} has ${lines} lines now: remove it from LONG_MODULES`)
  }
  for (const file of LONG_MODULES)
    if (!files.has(file)) problems.push(`${file} no longer exists: remove it from LONG_MODULES`)
  assert.deepEqual(problems, [])
})
