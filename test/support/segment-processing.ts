// Helpers for the parallel segments runtime tests (test/integration/segments/routing-*,
// processing-*): keyed records, a deserializer that counts its calls, and waiting until every
// segment's Kafka group has committed at the log end.
import { DeserializationError, type Deserializer } from '../../src/processing/deserializers.ts'
import { segmentGroupName } from '../../src/segments/segment-names.ts'
import { committedOffsets, endOffsets, type ProducedRecord, waitUntil } from './kafka.ts'

/** What the keyed records carry as their value (JSON). */
export interface KeyedValue {
  key: string
  /** The record's position among its key's records: 0, 1, 2, … in produce order. */
  seq: number
}

/**
 * Record `i` of a keyed stream: key `user-<i % keys>`, the same key as header `user`, value
 * `{ key, seq }`; a key always lands on one partition, as a keyed producer would do.
 */
export function keyedRecord(i: number, keys: number, partitions: number): ProducedRecord {
  const n = i % keys
  const key = `user-${n}`
  const seq = Math.floor(i / keys)
  return { key, value: JSON.stringify({ key, seq }), partition: n % partitions, headers: { user: key } }
}

/** A JSON deserializer (like `json()`) that counts its calls per `partition:offset` (a filtered record must never be decoded). */
export function countingJson<T>(): Deserializer<T | null> & { calls: Map<string, number>; total(): number } {
  const calls = new Map<string, number>()
  return {
    name: 'counting-json',
    calls,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    deserialize(value, record) {
      const id = `${record.partition}:${record.offset}`
      calls.set(id, (calls.get(id) ?? 0) + 1)
      if (value === null) return null
      try {
        return JSON.parse(value.toString('utf8')) as T
      } catch (error) {
        throw new DeserializationError(`${record.topic}#${id}: not JSON`, { cause: error })
      }
    },
  }
}

/** The Kafka groups of a segmented group with the default merge key. */
export function segmentGroups(origin: string, count: number, mergeKey = '-parallel-'): string[] {
  return Array.from({ length: count }, (_, i) => segmentGroupName(origin, mergeKey, i))
}

/** Committed offset per partition of `group` (-1 when none), as an array indexed by partition. */
export async function committedArray(group: string, topic: string, partitions: number): Promise<number[]> {
  const committed = await committedOffsets(group, topic, partitions)
  return Array.from({ length: partitions }, (_, p) => committed.get(p)?.offset ?? -1)
}

/** Waits until every group has committed every partition of `topic` at its log end (lag 0). */
export async function waitCommittedAtEnd(
  groups: readonly string[],
  topic: string,
  partitions: number,
  timeoutMs = 60_000,
): Promise<void> {
  const ends = await endOffsets(topic, partitions)
  const want = Array.from({ length: partitions }, (_, p) => ends.get(p)!)
  let last = ''
  await waitUntil(
    async () => {
      const seen = await Promise.all(groups.map((g) => committedArray(g, topic, partitions)))
      last = groups.map((g, i) => `${g}: ${seen[i]!.join(',')}`).join('; ')
      return seen.every((offsets) => offsets.every((o, p) => o === want[p]))
    },
    { timeoutMs, message: `every group committed at the log end ${want.join(',')}` },
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last seen ${last})`)
  })
}
