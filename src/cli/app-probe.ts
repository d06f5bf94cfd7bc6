// What `multilane run --processes` needs to know of the app before it forks the workers: its
// consumer groups' segment counts and how many share groups it has. The supervisor must not
// import the app module itself: a module's top-level code (a /metrics server binding its port,
// a connection pool) would run in the supervisor too, and stay alive there. A short-lived child
// imports it, reports the definition's shape over IPC and exits.
import { spawn } from 'node:child_process'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ErrorCode, MultilaneError } from '../errors.ts'
import { CliError } from './errors.ts'

/** The parts of an app definition that decide the workers' placement. */
export interface AppShape {
  consumerGroups: Array<{ name: string; parallelSegments: { count: number } }>
  shareGroups: number
}

/** The probe's one message: the shape, or why the module could not give one. */
export type ProbeReply = { shape: AppShape } | { error: { code?: string; message: string } }

/** The program beside this module: .ts in a checkout, .js in the built package. */
function probeEntry(): string {
  return fileURLToPath(new URL(`./probe-app${extname(new URL(import.meta.url).pathname)}`, import.meta.url))
}

/**
 * Imports `modulePath` (as given on the command line, relative to the working directory) in a
 * child process and returns its definition's shape. Rejects with the error the import or the
 * definition raised there (same code and message as in-process), or when the child exits
 * without answering.
 */
export function probeApp(modulePath: string): Promise<AppShape> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, probeEntry(), modulePath], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let reply: ProbeReply | undefined
    child.once('message', (message) => {
      reply = message as ProbeReply
    })
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      if (reply && 'shape' in reply) return resolve(reply.shape)
      if (reply) {
        const { code: errorCode, message } = reply.error
        return reject(errorCode ? new MultilaneError(errorCode as ErrorCode, message) : new Error(message))
      }
      reject(
        new CliError(
          'APP_MODULE_IMPORT_FAILED',
          `App module ${modulePath}: the process reading its definition exited ${signal ? `by ${signal}` : `with code ${code}`} without an answer`,
        ),
      )
    })
  })
}
