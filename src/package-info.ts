// multilane's own package.json: the CLI's --version and the Node.js version rule (engines.node)
// are read from it, so each is written in one place. src/ and dist/ both sit beside
// package.json, so one relative URL serves the sources and the installed package.
import { readFileSync } from 'node:fs'

/** The fields of multilane's package.json that the code reads. */
export interface PackageInfo {
  name: string
  version: string
  engines: { node: string }
}

let cached: PackageInfo | null | undefined

/**
 * multilane's package.json, or `null` when the file beside `src/`/`dist/` is missing or is not
 * multilane's (the code was bundled into another project).
 */
export function packageInfo(): PackageInfo | null {
  if (cached !== undefined) return cached
  try {
    const json = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as PackageInfo
    cached = json.name === 'multilane' ? json : null
  } catch {
    cached = null
  }
  return cached
}
