// Loads the user's app module for `multilane run` and `multilane segments …`: a .ts or .js file
// (relative to the working directory) whose default export is the multilane App. The module
// only defines the app; the command starts it (or only reads its definition).
import { existsSync, statSync } from 'node:fs'
import { basename, dirname, extname, isAbsolute, relative as relativePath, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { App } from '../app/app.ts'
import { describeValue } from '../describe-value.ts'
import { CliError } from './errors.ts'

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs']

/** The file an app-module argument names, resolved against `cwd`. */
export function appModulePath(modulePath: string, cwd = process.cwd()): string {
  return resolve(cwd, modulePath)
}

/**
 * Imports `modulePath` and returns its default export, which must be a multilane App. Throws
 * a CliError naming the file: APP_MODULE_NOT_FOUND, APP_MODULE_IMPORT_FAILED (the module threw,
 * e.g. an invalid app definition, with its message) or APP_MODULE_INVALID (no App exported).
 */
export async function loadAppModule(modulePath: string, cwd = process.cwd()): Promise<App> {
  const file = appModulePath(modulePath, cwd)
  const named = `App module ${modulePath}${file === modulePath ? '' : ` (${file})`}`
  if (!existsSync(file)) {
    throw new CliError('APP_MODULE_NOT_FOUND', `${named} does not exist`)
  }
  if (!statSync(file).isFile()) {
    throw new CliError(
      'APP_MODULE_NOT_FOUND',
      `${named} is not a file (give the module that exports the app)`,
    )
  }
  if (!EXTENSIONS.includes(extname(file))) {
    throw new CliError('APP_MODULE_INVALID', `${named} must be a ${EXTENSIONS.join(', ')} file`)
  }
  let module: { default?: unknown }
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (error) {
    const e = error as Error & { code?: unknown }
    const code = typeof e?.code === 'string' ? `[${e.code}] ` : ''
    throw new CliError(
      'APP_MODULE_IMPORT_FAILED',
      `${named} failed to import: ${code}${e?.message ?? String(error)}${typeStrippingHint(e)}`,
      {
        cause: error,
      },
    )
  }
  if (!('default' in module) || module.default === undefined) {
    throw new CliError(
      'APP_MODULE_INVALID',
      `${named} has no default export: end it with \`export default app\` (the App createApp() returned)`,
    )
  }
  if (!isApp(module.default)) {
    throw new CliError(
      'APP_MODULE_INVALID',
      `${named}: the default export must be a multilane App (what createApp() returns), got ${describeValue(module.default)}`,
    )
  }
  return module.default
}

const TSX =
  'or run the app through tsx (`NODE_OPTIONS="--import tsx" npx multilane run …`, with tsx installed), or compile it and run the .js'

/**
 * Node runs .ts files by stripping the types, with rules of its own that an app written for
 * tsc or a bundler breaks: say which rule and the fix (docs/cli.md#typescript-app-modules).
 */
function typeStrippingHint(e: (Error & { code?: unknown }) | undefined): string {
  if (e?.code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' || e?.code === 'ERR_INVALID_TYPESCRIPT_SYNTAX') {
    return `\nhint: Node runs .ts files by stripping the types, which allows only erasable TypeScript syntax (no enums, namespaces or parameter properties; tsconfig "erasableSyntaxOnly": true finds them): rewrite them, ${TSX}`
  }
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') return ''
  const missing = /Cannot find module '([^']+)'/.exec(e.message)?.[1]
  if (!missing || !isAbsolute(missing)) return ''
  // The import as the importing file would write it.
  const importer = /imported from (.+)$/m.exec(e.message)?.[1]
  const relative = (file: string) => {
    const path = importer ? relativePath(dirname(importer), file) : basename(file)
    return path.startsWith('.') ? path : `./${path}`
  }
  if (/\.(m?)js$/.test(missing)) {
    const ts = missing.replace(/\.(m?)js$/, '.$1ts')
    if (existsSync(ts)) {
      return `\nhint: ${basename(missing)} does not exist, but ${basename(ts)} does: Node runs .ts files by stripping the types and does not map .js imports to .ts as tsc and bundlers do. Import '${relative(ts)}' (tsconfig: "allowImportingTsExtensions", and "rewriteRelativeImportExtensions" to compile), ${TSX}`
    }
  }
  if (extname(missing) === '') {
    const found = EXTENSIONS.map((ext) => `${missing}${ext}`).find((f) => existsSync(f))
    if (found) return `\nhint: Node needs the file extension in relative imports: import '${relative(found)}'`
  }
  return ''
}

/**
 * An App by its methods rather than `instanceof`: a module importing another copy of multilane
 * (an installed package beside a checkout) exports an App of another class object.
 */
function isApp(value: unknown): value is App {
  const v = value as Record<string, unknown> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    ['definition', 'start', 'run', 'stop', 'on'].every((m) => typeof v[m] === 'function')
  )
}
