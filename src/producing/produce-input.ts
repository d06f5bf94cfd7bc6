/**
 * The input of `multilane topics produce`: text lines (one value per line) or JSON lines
 * (`{"key", "value", "headers", "partition"}` per line), turned into records. Every line is
 * checked before anything is sent; an error names the source and the line.
 */
import type { ProduceRecord } from './app-producer.ts'
import { ProducerError } from './errors.ts'

export type InputFormat = 'lines' | 'json'

export interface InputDefaults {
  /** The key of every record (a JSON line's own "key" wins). */
  key?: string
  /** Headers of every record (a JSON line's own headers win, name by name). */
  headers: Record<string, string>
  /** The partition of every record (a JSON line's own "partition" wins). */
  partition?: number
}

const JSON_FIELDS = new Set(['key', 'value', 'headers', 'partition'])

/**
 * The input's bytes as text. Bytes that are not UTF-8 are refused, naming the line: decoded
 * leniently they would be produced as U+FFFD, silently not what the input held. A leading
 * byte order mark is dropped.
 */
export function decodeInput(bytes: Uint8Array, source: string): string {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  try {
    return decoder.decode(bytes)
  } catch {
    let line = 1
    let start = 0
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue
      try {
        decoder.decode(bytes.subarray(start, i))
      } catch {
        throw bad(`${source} line ${line}`, 'not valid UTF-8 (produce binary values with app.producer)')
      }
      line++
      start = i + 1
    }
    throw bad(source, 'not valid UTF-8 (produce binary values with app.producer)')
  }
}

/**
 * Parses `text` into records for `topic`. `source` names the input in errors ("stdin",
 * "--file data.txt"). Empty lines are skipped.
 */
export function parseProduceInput(
  text: string,
  topic: string,
  format: InputFormat,
  defaults: InputDefaults,
  source: string,
): ProduceRecord[] {
  const records: ProduceRecord[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === '') continue
    const at = `${source} line ${i + 1}`
    records.push(
      format === 'json' ? jsonRecord(line, topic, defaults, at) : textRecord(line, topic, defaults),
    )
  }
  return records
}

function textRecord(line: string, topic: string, defaults: InputDefaults): ProduceRecord {
  return {
    topic,
    value: line,
    headers: defaults.headers,
    ...(defaults.key === undefined ? {} : { key: defaults.key }),
    ...(defaults.partition === undefined ? {} : { partition: defaults.partition }),
  }
}

function jsonRecord(line: string, topic: string, defaults: InputDefaults, at: string): ProduceRecord {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch (error) {
    throw bad(
      at,
      `not valid JSON (${(error as Error).message}); each line must be {"key", "value", "headers", "partition"}`,
    )
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad(
      at,
      `must be a JSON object {"key", "value", "headers", "partition"}, got ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`,
    )
  }
  const o = parsed as Record<string, unknown>
  const unknown = Object.keys(o).filter((k) => !JSON_FIELDS.has(k))
  if (unknown.length > 0) {
    throw bad(
      at,
      `unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: key, value, headers, partition)`,
    )
  }
  if (!('value' in o)) throw bad(at, '"value" is missing (use null for a tombstone)')
  const value = o.value === null ? null : typeof o.value === 'string' ? o.value : JSON.stringify(o.value)
  let key: string | null | undefined = defaults.key
  if ('key' in o) {
    if (o.key !== null && typeof o.key !== 'string')
      throw bad(at, `"key" must be a string or null, got ${typeof o.key}`)
    key = o.key
  }
  const headers = { ...defaults.headers }
  if ('headers' in o && o.headers !== null) {
    if (typeof o.headers !== 'object' || Array.isArray(o.headers)) {
      throw bad(at, '"headers" must be an object of string values, e.g. {"source": "cli"}')
    }
    for (const [name, v] of Object.entries(o.headers as Record<string, unknown>)) {
      if (typeof v !== 'string')
        throw bad(at, `header "${name}" must be a string, got ${v === null ? 'null' : typeof v}`)
      if (name === '') throw bad(at, 'header names must not be empty')
      headers[name] = v
    }
  }
  let partition = defaults.partition
  if ('partition' in o && o.partition !== null) {
    if (!(typeof o.partition === 'number' && Number.isSafeInteger(o.partition) && o.partition >= 0)) {
      throw bad(at, `"partition" must be an integer ≥ 0, got ${JSON.stringify(o.partition)}`)
    }
    partition = o.partition
  }
  return {
    topic,
    value,
    headers,
    ...(key === undefined ? {} : { key }),
    ...(partition === undefined ? {} : { partition }),
  }
}

function bad(at: string, rule: string): ProducerError {
  return new ProducerError('INVALID_PRODUCE_RECORD', `${at}: ${rule}; nothing was produced`)
}
