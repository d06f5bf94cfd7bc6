// A pino-shaped logger that keeps every line as JSON text (what the default log would print).
import type { AppLogger } from '../../src/app/options/app.ts'

export interface CapturedLogger extends AppLogger {
  lines: string[]
}

/** Every call of every level (and of children) appends one JSON line to `lines`. */
export function capturedLogger(lines: string[] = [], bindings: Record<string, unknown> = {}): CapturedLogger {
  const write =
    (level: string) =>
    (object: unknown, message?: unknown): void => {
      const fields =
        object instanceof Error
          ? { err: { name: object.name, message: object.message, stack: object.stack } }
          : typeof object === 'object' && object !== null
            ? object
            : { msg: object }
      lines.push(JSON.stringify({ level, ...bindings, ...fields, msg: message ?? '' }, errorReplacer))
    }
  return {
    lines,
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    debug: write('debug'),
    child: (more: Record<string, unknown>) => capturedLogger(lines, { ...bindings, ...more }),
  } as CapturedLogger
}

/** Errors as pino serializes them: name, message, stack, code and cause, all their own fields. */
export function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const own: Record<string, unknown> = {}
    for (const k of Object.getOwnPropertyNames(value))
      own[k] = (value as unknown as Record<string, unknown>)[k]
    return { name: value.name, ...own, cause: value.cause }
  }
  if (typeof value === 'bigint') return value.toString()
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  return value
}
