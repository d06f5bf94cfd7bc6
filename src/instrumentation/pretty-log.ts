// Log lines for people, for development (`MULTILANE_LOG=pretty`, or `createApp({ logger: 'pretty' })`):
// pino's JSON lines reformatted as one short line each — time, level, message, then the fields —
// with an error's stack below. A few lines of our own rather than pino-pretty: that is a second
// package with a dozen dependencies and a worker thread, for a development convenience.
import { type Logger, pino } from 'pino'

/** Where formatted lines go: a stream with `write` (and `isTTY` to decide on colours). */
export interface PrettyTarget {
  write(line: string): unknown
  isTTY?: boolean
}

const LEVELS: Record<number, { name: string; colour: number }> = {
  10: { name: 'TRACE', colour: 90 },
  20: { name: 'DEBUG', colour: 36 },
  30: { name: 'INFO ', colour: 32 },
  40: { name: 'WARN ', colour: 33 },
  50: { name: 'ERROR', colour: 31 },
  60: { name: 'FATAL', colour: 35 },
}

/** pino's own fields, and those the line shows elsewhere. */
const SHOWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'err'])

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v
  return JSON.stringify(v) ?? String(v)
}

/** Formats one pino JSON line; a line that is not JSON passes through as it is. */
export function formatPrettyLine(json: string, colours = false): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`
  }
  const paint = (code: number, text: string) => (colours ? `\u001b[${code}m${text}\u001b[0m` : text)
  const level = LEVELS[entry.level as number] ?? { name: String(entry.level).padEnd(5), colour: 0 }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : ''
  const fields = Object.entries(entry)
    .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
    .map(([k, v]) => paint(90, `${k}=${value(v)}`))
  let line = `${paint(90, time)} ${paint(level.colour, level.name)} ${String(entry.msg ?? '')}`
  if (fields.length > 0) line += `  ${fields.join(' ')}`
  const err = entry.err as { stack?: string; message?: string } | undefined
  if (err?.stack) line += `\n${paint(90, err.stack.replace(/^/gm, '    '))}`
  else if (err?.message) line += `  ${paint(90, `err=${value(err.message)}`)}`
  return `${line}\n`
}

/** A pino destination that writes formatted lines to `target` (colours when it is a terminal and NO_COLOR is unset). */
export function prettyDestination(
  target: PrettyTarget = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
) {
  const colours = target.isTTY === true && !env.NO_COLOR
  return {
    write(chunk: string): void {
      for (const json of chunk.split('\n')) if (json !== '') target.write(formatPrettyLine(json, colours))
    },
  }
}

/** The `MULTILANE_LOG` values: `json` (the default) or `pretty`. */
export type LogFormat = 'json' | 'pretty'

/** The format MULTILANE_LOG asks for; anything else is an error naming the variable and its values. */
export function logFormatFromEnv(env: NodeJS.ProcessEnv = process.env): LogFormat | undefined {
  const given = env.MULTILANE_LOG
  if (given === undefined || given === '') return undefined
  if (given === 'json' || given === 'pretty') return given
  throw new Error(`MULTILANE_LOG: must be "json" or "pretty" (got ${JSON.stringify(given)})`)
}

/** multilane's own logger: pino at MULTILANE_LOG_LEVEL (default info), JSON lines or pretty ones. */
export function multilaneLogger(format: LogFormat, env: NodeJS.ProcessEnv = process.env): Logger {
  const options = { name: 'multilane', level: env.MULTILANE_LOG_LEVEL ?? 'info' }
  return format === 'pretty' ? pino(options, prettyDestination(process.stdout, env)) : pino(options)
}
