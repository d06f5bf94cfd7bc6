/**
 * Rule building blocks shared by the option contracts. Each carries one message (the rule),
 * used for every way a value can break it; the error helper appends what it got.
 */
import { z } from 'zod'

/** An options object: unknown keys are errors. */
export function options<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.strictObject(shape, { error: 'must be an object' })
}

/** An integer ≥ `min` (safe range). */
export function integerAtLeast(min: number) {
  const error = `must be an integer ≥ ${min}`
  return z.number({ error }).int({ error }).min(min, { error })
}

/** One of the given strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.map((v) => `"${v}"`).join(', ')}` })
}

export function boolean() {
  return z.boolean({ error: 'must be true or false' })
}

export function nonEmptyString() {
  const error = 'must be a non-empty string'
  return z.string({ error }).min(1, { error })
}

/** A function; its signature is the TypeScript type's business. */
export function fn<F extends (...args: never[]) => unknown>() {
  return z.custom<F>((v) => typeof v === 'function', { error: 'must be a function' })
}

/** A plain object (any prototype), not an array or null. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

/** Kafka's own topic name rule (`Topic.validate` in the Java clients). */
export function isValidTopicName(name: unknown): name is string {
  return typeof name === 'string' && TOPIC_NAME.test(name) && name !== '.' && name !== '..'
}

export const TOPIC_NAME_RULE =
  'must be a Kafka topic name: 1–249 characters of a-z A-Z 0-9 . _ - (and not "." or "..")'

export function topicName() {
  return z.custom<string>(isValidTopicName, { error: TOPIC_NAME_RULE })
}
