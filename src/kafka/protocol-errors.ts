import { protocolErrorsCodesById } from '@platformatic/kafka'

/** The Kafka error name (e.g. `NOT_COORDINATOR`) for a wire error code; `NONE` for 0. */
export function kafkaErrorName(code: number): string {
  if (code === 0) return 'NONE'
  return protocolErrorsCodesById[code] ?? `UNKNOWN_ERROR_${code}`
}

/**
 * The Kafka error name carried by an error thrown from a `@platformatic/kafka` API call
 * (a ResponseError wrapping ProtocolErrors, or a ProtocolError), or undefined for network
 * and other failures.
 */
export function protocolErrorName(error: unknown): string | undefined {
  const e = error as { apiId?: unknown; errors?: Array<{ apiId?: unknown }> } | undefined
  if (typeof e?.apiId === 'string') return e.apiId
  const nested = e?.errors?.find((x) => typeof x?.apiId === 'string')
  return typeof nested?.apiId === 'string' ? nested.apiId : undefined
}

/** The parsed response a ResponseError carries (platformatic throws on partial errors too). */
export function responseOf<T>(error: unknown): T | undefined {
  return (error as { response?: T } | undefined)?.response
}

/** Errors after which the coordinator must be looked up again. */
export const COORDINATOR_MOVED = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE'])

/** Errors meaning the coordinator is busy; retry the same one after a pause. */
export const COORDINATOR_BUSY = new Set([
  'COORDINATOR_LOAD_IN_PROGRESS',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
])

/** Partition errors fixed by refreshing metadata (the leader moved or is not known yet). */
export const STALE_LEADER = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'UNKNOWN_TOPIC_ID',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'REPLICA_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR',
  'OFFSET_NOT_AVAILABLE',
])
