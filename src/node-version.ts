// The Node.js version check, run first when multilane is imported (src/index.ts imports this
// module before anything else). On a Node.js older than package.json's engines.node, multilane
// would fail later with a misleading error (Node 20 lacks Promise.withResolvers, and
// `app.run()` then reported "no broker reachable"); this stops at import with the real reason.
// The `multilane` command (bin/multilane.js) applies the same rule, read from the same field.
import { MultilaneError } from './errors.ts'
import { packageInfo } from './package-info.ts'

/** multilane was imported by a Node.js older than it supports (package.json `engines.node`). */
export class UnsupportedNodeError extends MultilaneError<'UNSUPPORTED_NODE'> {}

/** The version in an `engines.node` range, which must have the form `>=MAJOR.MINOR.PATCH`. */
export function minimumNodeVersion(range: string): string {
  const match = /^>=(\d+\.\d+\.\d+)$/.exec(range)
  if (!match) {
    throw new MultilaneError(
      'INVALID_ENGINES',
      `package.json engines.node must have the form ">=MAJOR.MINOR.PATCH" (got "${range}")`,
    )
  }
  return match[1]!
}

/** Whether `version` (`process.versions.node` style, prerelease tags ignored) ≥ `minimum`. */
export function isAtLeast(version: string, minimum: string): boolean {
  const parse = (v: string): number[] => v.split(/[.-]/, 3).map(Number)
  const have = parse(version)
  const need = parse(minimum)
  for (let i = 0; i < 3; i++) {
    if (have[i]! !== need[i]!) return have[i]! > need[i]!
  }
  return true
}

/** Throws {@link UnsupportedNodeError} when `version` is older than `engines.node` allows. */
export function checkNodeVersion(
  version: string = process.versions.node,
  executable: string = process.execPath,
): void {
  const info = packageInfo()
  // Bundled into another project: its build and its own engines decide the Node version.
  if (info === null) return
  const minimum = minimumNodeVersion(info.engines.node)
  if (isAtLeast(version, minimum)) return
  throw new UnsupportedNodeError(
    'UNSUPPORTED_NODE',
    `multilane needs Node.js >= ${minimum}; this is Node.js v${version} (${executable}). ` +
      `Run it with Node.js ${minimum} or newer.`,
  )
}

checkNodeVersion()
