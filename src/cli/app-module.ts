// Loads the user's app module for `multilane run` and `multilane segments …`: a .ts or .js file
// (relative to the working directory) whose default export is the multilane App. The module
// only defines the app; the command starts it (or only reads its definition).
import { existsSync, statSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { App } from '../app/app.ts'
import { describeValue } from '../app/configuration-error.ts'
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
      `${named} failed to import: ${code}${e?.message ?? String(error)}`,
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
