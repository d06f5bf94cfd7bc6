import { MultilaneError } from '../errors.ts'
/** Turns a record's value bytes into a payload. Runs lazily, on first access to `payload`. */
export interface Deserializer<T> {
  /** Shown in errors and logs. */
  readonly name: string
  deserialize(value: Buffer | null, record: { topic: string; partition: number; offset: number }): T
}

/** A deserializer failed; the record is retried like a handler failure. */
export class DeserializationError extends MultilaneError<'DESERIALIZATION_FAILED'> {
  constructor(message: string, options?: ErrorOptions) {
    super('DESERIALIZATION_FAILED', message, options)
  }
}

/** JSON (UTF-8); a null value stays null. */
export function json<T = unknown>(): Deserializer<T | null> {
  return {
    name: 'json',
    deserialize(value, record) {
      if (value === null) return null
      try {
        return JSON.parse(value.toString('utf8')) as T
      } catch (error) {
        throw new DeserializationError(
          `${record.topic}#${record.partition}@${record.offset}: value is not valid JSON (${(error as Error).message})`,
          { cause: error },
        )
      }
    },
  }
}

/** UTF-8 text; a null value stays null. */
export function string(): Deserializer<string | null> {
  return { name: 'string', deserialize: (value) => (value === null ? null : value.toString('utf8')) }
}

/** The bytes as they are. */
export function raw(): Deserializer<Buffer | null> {
  return { name: 'raw', deserialize: (value) => value }
}

/** A deserializer from a function. */
export function custom<T>(name: string, fn: (value: Buffer | null) => T): Deserializer<T> {
  return { name, deserialize: (value) => fn(value) }
}
