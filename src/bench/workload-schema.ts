/**
 * The workload contract of `multilane bench`: what a workload file may say, with the rules and
 * defaults. The consumer fields are the app's own options (processing, share group, retries,
 * parallel segments) under the names the app uses, so a point maps onto a real app definition.
 */
import { z } from 'zod'

const int = (min: number) => {
  const error = `must be an integer ≥ ${min}`
  return z.number({ error }).int({ error }).min(min, { error })
}
const positive = () => {
  const error = 'must be a number > 0'
  return z.number({ error }).positive({ error })
}
const share01 = () => {
  const error = 'must be a number from 0 to 1'
  return z.number({ error }).min(0, { error }).max(1, { error })
}
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.map((v) => `"${v}"`).join(', ')}` })
const strict = <S extends z.core.$ZodLooseShape>(shape: S) =>
  z.strictObject(shape, { error: 'must be a mapping' })
const text = () =>
  z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' })

/** `uniform`, `{ zipf: { s } }` or `{ hotKey: { share } }`. */
const keyDistribution = z.union(
  [
    z.literal('uniform'),
    strict({ zipf: strict({ s: positive() }) }),
    strict({ hotKey: strict({ share: share01() }) }),
  ],
  { error: 'must be "uniform", { zipf: { s: <number > 0> } } or { hotKey: { share: <0..1> } }' },
)

/** Milliseconds: `{ fixed: ms }`, `{ uniform: { min, max } }` or `{ lognormal: { median, p99 } }`. */
const processingTime = z
  .union(
    [
      strict({ fixed: z.number().min(0) }),
      strict({ uniform: strict({ min: z.number().min(0), max: z.number().min(0) }) }),
      strict({ lognormal: strict({ median: positive(), p99: positive() }) }),
    ],
    {
      error:
        'must be { fixed: <ms ≥ 0> }, { uniform: { min: <ms>, max: <ms> } } or { lognormal: { median: <ms>, p99: <ms> } }',
    },
  )
  .superRefine((t, ctx) => {
    if ('uniform' in t && t.uniform.max < t.uniform.min) {
      ctx.addIssue({ code: 'custom', path: ['uniform', 'max'], message: `must be ≥ min (${t.uniform.min})` })
    }
    if ('lognormal' in t && t.lognormal.p99 < t.lognormal.median) {
      ctx.addIssue({
        code: 'custom',
        path: ['lognormal', 'p99'],
        message: `must be ≥ median (${t.lognormal.median})`,
      })
    }
  })

const sasl = strict({
  mechanism: oneOf(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
  username: text(),
  password: text(),
})

/** `local` or `{ bootstrap, sasl?, tls? }`. */
const target = z.union(
  [
    z.literal('local'),
    strict({
      bootstrap: text(),
      sasl: sasl.optional(),
      tls: z
        .union([z.boolean(), strict({ caFile: text().optional(), servername: text().optional() })])
        .optional(),
    }),
  ],
  { error: 'must be "local" or { bootstrap: "host:port[,…]", sasl?: {…}, tls?: true | {…} }' },
)

const topic = strict({
  partitions: int(1),
  /** Bytes of value per record. */
  recordSize: int(0).default(100),
  keys: strict({
    count: int(1).default(1000),
    distribution: keyDistribution.default('uniform'),
  }).prefault({}),
  /**
   * How records are spread over partitions: `key` (the key's hash, as producers do by default)
   * or `roundRobin` (record n to partition n mod partitions: every partition gets the same rate,
   * as the study's producer). With few keys per partition, hashing makes some partitions busier.
   */
  partitioner: oneOf(['key', 'roundRobin']).default('key'),
  /** Headers each record carries; `user_id` is set from the record's key number. */
  headers: z.array(text(), { error: 'must be a list of header names' }).default([]),
})

const producer = strict({
  /** Records per second. */
  rate: positive(),
  warmupSeconds: z
    .number({ error: 'must be a number ≥ 0' })
    .min(0, { error: 'must be a number ≥ 0' })
    .default(10),
  measureSeconds: positive(),
  /** After the measurement: how long every produced record may take to be handled. */
  drainTimeoutSeconds: positive().default(60),
})

const consumers = strict({
  group: oneOf(['consumer', 'share']),
  /** Group members (each one app member, in this process). */
  members: int(1),
  /** Processes the members are spread over: 1 (members in child processes are not implemented yet). */
  processes: z
    .literal(1, {
      error: 'must be 1: members run in the bench process (child processes are not supported yet)',
    })
    .default(1),
  style: oneOf(['blocking', 'continuous']),
  capacity: int(1).default(100),
  ordering: oneOf(['partition', 'key', 'unordered']).optional(),
  maxPollRecords: int(1).default(500),
  /** Share groups only (KIP-1206). */
  acquireMode: oneOf(['batch_optimized', 'record_limit']).optional(),
  /** Share groups only: retry in the member (`local`) or release for redelivery. */
  retries: oneOf(['local', 'redeliver']).optional(),
  /** Parallel segments (consumer groups only); 1 = none. */
  segments: int(1).default(1),
  processing: strict({
    time: processingTime,
    as: oneOf(['sleep', 'busy']).default('sleep'),
    /** Share of records whose first attempt fails (retried after a short backoff). */
    failureShare: share01().default(0),
  }),
})

/** One resolved point's configuration (without name/description/points). */
export const pointConfigContract = strict({
  target: target.default('local'),
  topic,
  producer,
  consumers,
}).superRefine((c, ctx) => {
  const k = c.consumers
  const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message })
  if (k.group === 'consumer') {
    if (k.acquireMode !== undefined)
      issue(['consumers', 'acquireMode'], 'applies to share groups only (consumers.group is "consumer")')
    if (k.retries !== undefined)
      issue(
        ['consumers', 'retries'],
        'applies to share groups only: a consumer group retries a record in place (consumers.group is "consumer")',
      )
  } else {
    if (k.segments !== 1)
      issue(['consumers', 'segments'], 'must be 1 for share groups: parallel segments split consumer groups')
    if (k.ordering === 'partition')
      issue(
        ['consumers', 'ordering'],
        "'partition' does not apply to share groups (a partition's records go to many members): use 'key' or 'unordered'",
      )
  }
  if (k.segments > 1 && !c.topic.headers.includes('user_id'))
    issue(['topic', 'headers'], 'must include "user_id" when consumers.segments > 1: segments route by it')
})

export type PointConfig = z.output<typeof pointConfigContract>
export type KeyDistribution = PointConfig['topic']['keys']['distribution']
export type ProcessingTime = PointConfig['consumers']['processing']['time']

/** The file's top level: the base configuration plus named points and dimensions. */
export const workloadFileContract = strict({
  name: z
    .string({ error: 'must be a name of a-z A-Z 0-9 . _ - (1–100 characters)' })
    .regex(/^[a-zA-Z0-9._-]{1,100}$/, { error: 'must be a name of a-z A-Z 0-9 . _ - (1–100 characters)' }),
  description: z.string({ error: 'must be a string' }).default(''),
  /** Shows a study's published figures beside the measured ones (`client-local-parallelism`). */
  seed: oneOf(['client-local-parallelism']).optional(),
  target: z.unknown().optional(),
  topic: z.unknown().optional(),
  producer: z.unknown().optional(),
  consumers: z.unknown().optional(),
  /** Named overrides of the base, each one point. */
  points: z
    .array(
      z.looseObject({
        name: z
          .string({ error: 'must be a point name of a-z A-Z 0-9 . _ - (1–60 characters)' })
          .regex(/^[a-zA-Z0-9._-]{1,60}$/, {
            error: 'must be a point name of a-z A-Z 0-9 . _ - (1–60 characters)',
          }),
      }),
      { error: 'must be a list of { name, …overrides }' },
    )
    .optional(),
  /** `dotted.field: [values…]`: every combination is run (for every named point). */
  dimensions: z
    .record(
      z.string(),
      z
        .array(z.unknown(), { error: 'must be a non-empty list of values' })
        .min(1, { error: 'must be a non-empty list of values' }),
      { error: 'must be a mapping of dotted.field: [values…]' },
    )
    .optional(),
})

export type WorkloadFile = z.output<typeof workloadFileContract>
