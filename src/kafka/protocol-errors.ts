import { protocolErrorsCodesById } from '@platformatic/kafka'
import { AuthorizationError } from './authorization.ts'

/** The Kafka error name (e.g. `NOT_COORDINATOR`) for a wire error code; `NONE` for 0. */
export function kafkaErrorName(code: number): string {
  if (code === 0) return 'NONE'
  return protocolErrorsCodesById[code] ?? `UNKNOWN_ERROR_${code}`
}

/**
 * The Kafka error name carried by an error thrown from a `@platformatic/kafka` API call
 * (a ResponseError wrapping ProtocolErrors, or a ProtocolError) or by an AuthorizationError,
 * or undefined for network and other failures.
 */
export function protocolErrorName(error: unknown): string | undefined {
  if (error instanceof AuthorizationError) return error.kafkaError
  const e = error as { apiId?: unknown; errors?: Array<{ apiId?: unknown }> } | undefined
  if (typeof e?.apiId === 'string') return e.apiId
  const nested = e?.errors?.find((x) => typeof x?.apiId === 'string')
  return typeof nested?.apiId === 'string' ? nested.apiId : undefined
}

/** The parsed response a ResponseError carries (platformatic throws on partial errors too). */
export function responseOf<T>(error: unknown): T | undefined {
  return (error as { response?: T } | undefined)?.response
}

/**
 * What an error means to a group kind's code path (a flag of a row of {@link PROTOCOL_ERRORS}):
 * - `coordinatorMoved`: look the group coordinator up again (both kinds alike).
 * - `coordinatorBusy`: retry the same coordinator after a pause (both kinds alike).
 * - `retriable`: an OffsetCommit refused with it is retried (consumer groups' committer).
 * - `staleLeader`: a Fetch / ListOffsets partition error a metadata refresh fixes.
 * - `fenced`: a heartbeat answer meaning the member is out of the group: rejoin with epoch 0.
 * - `fatal`: a heartbeat answer no retry fixes: the member stops.
 * - `joinFatal`: a heartbeat answer no retry fixes when it answers a join (epoch 0).
 * - `sessionReset` (share): a top-level ShareFetch / ShareAcknowledge error: open a new session.
 * - `requestFatal` (share): a top-level ShareFetch / ShareAcknowledge error no retry fixes.
 * - `locksGone` (share): a partition error after which the member holds no locks there.
 * - `partitionFatal` (share): a ShareFetch partition error no retry fixes.
 * - `ackFailed` (share): a partition acknowledgement error no resend fixes (failed, not retried).
 * - `rebalance` (classic): the group is rebalancing: rejoin (JoinGroup) keeping the partitions
 *   owned (cooperative; an eager member gives them up first).
 */
export type ErrorFlag =
  | 'coordinatorMoved'
  | 'coordinatorBusy'
  | 'retriable'
  | 'staleLeader'
  | 'fenced'
  | 'fatal'
  | 'joinFatal'
  | 'sessionReset'
  | 'requestFatal'
  | 'locksGone'
  | 'partitionFatal'
  | 'ackFailed'
  | 'rebalance'

/**
 * Consumer groups (KIP-848), share groups (KIP-932), or consumer groups on the classic protocol
 * (JoinGroup / SyncGroup / Heartbeat, generations instead of member epochs).
 */
export type GroupKind = 'consumer' | 'share' | 'classic'

/** One Kafka error: its wire code and its flags per group kind (`classic`: none when absent). */
export interface ProtocolErrorRow {
  readonly code: number
  readonly consumer: readonly ErrorFlag[]
  readonly share: readonly ErrorFlag[]
  readonly classic?: readonly ErrorFlag[]
}

const COORDINATOR: readonly ErrorFlag[] = ['coordinatorMoved']
const BUSY: readonly ErrorFlag[] = ['coordinatorBusy']

/**
 * Kafka error classification, one row per error, shaped like franz-go's kerr: every code path
 * that classifies an error reads it here (through {@link errorsFlagged}), so the consumer-group
 * and share-group paths cannot drift apart unnoticed. A row whose kinds differ says why.
 * Errors not listed have no flag: each path's default applies (mostly: retry with backoff).
 */
export const PROTOCOL_ERRORS: Readonly<Record<string, ProtocolErrorRow>> = {
  NOT_COORDINATOR: {
    code: 16,
    consumer: [...COORDINATOR, 'retriable'],
    share: COORDINATOR,
    classic: [...COORDINATOR, 'retriable'],
  },
  COORDINATOR_NOT_AVAILABLE: {
    code: 15,
    consumer: [...COORDINATOR, 'retriable'],
    share: COORDINATOR,
    classic: [...COORDINATOR, 'retriable'],
  },
  COORDINATOR_LOAD_IN_PROGRESS: {
    code: 14,
    consumer: [...BUSY, 'retriable'],
    share: BUSY,
    classic: [...BUSY, 'retriable'],
  },
  REQUEST_TIMED_OUT: {
    code: 7,
    consumer: [...BUSY, 'retriable'],
    share: BUSY,
    classic: [...BUSY, 'retriable'],
  },
  NETWORK_EXCEPTION: {
    code: 13,
    consumer: [...BUSY, 'retriable'],
    share: BUSY,
    classic: [...BUSY, 'retriable'],
  },
  // Consumer: the committer retries an OffsetCommit refused with these. Share groups send no
  // OffsetCommit.
  STALE_MEMBER_EPOCH: { code: 113, consumer: ['retriable'], share: [] },
  // Classic: a heartbeat or SyncGroup answered with it rejoins keeping the partitions (KIP-429);
  // an OffsetCommit refused with it (the group is completing a rebalance) is retried.
  REBALANCE_IN_PROGRESS: {
    code: 27,
    consumer: ['retriable'],
    share: [],
    classic: ['rebalance', 'retriable'],
  },
  // Consumer: the fetcher refreshes metadata (and the committer retries). Share: the session
  // gives up the locks it held on that partition there and refreshes metadata.
  UNKNOWN_TOPIC_OR_PARTITION: {
    code: 3,
    consumer: ['retriable', 'staleLeader'],
    share: ['locksGone'],
    classic: ['retriable'],
  },
  NOT_LEADER_OR_FOLLOWER: { code: 6, consumer: ['staleLeader'], share: ['locksGone'] },
  UNKNOWN_TOPIC_ID: { code: 100, consumer: ['staleLeader'], share: ['locksGone'] },
  FENCED_LEADER_EPOCH: { code: 74, consumer: ['staleLeader'], share: ['locksGone'] },
  // Consumer: the fetcher refreshes metadata. Share: not classified: a share partition that
  // answers these is retried with backoff and keeps its locks.
  LEADER_NOT_AVAILABLE: { code: 5, consumer: ['staleLeader'], share: [] },
  UNKNOWN_LEADER_EPOCH: { code: 75, consumer: ['staleLeader'], share: [] },
  REPLICA_NOT_AVAILABLE: { code: 9, consumer: ['staleLeader'], share: [] },
  KAFKA_STORAGE_ERROR: { code: 56, consumer: ['staleLeader'], share: [] },
  OFFSET_NOT_AVAILABLE: { code: 78, consumer: ['staleLeader'], share: [] },
  // Classic: the member id or the generation is no longer the group's: the partitions are lost,
  // the member joins again (a commit refused with them fails: the records are redelivered).
  UNKNOWN_MEMBER_ID: { code: 25, consumer: ['fenced'], share: ['fenced'], classic: ['fenced'] },
  ILLEGAL_GENERATION: { code: 22, consumer: [], share: [], classic: ['fenced'] },
  FENCED_MEMBER_EPOCH: { code: 110, consumer: ['fenced'], share: ['fenced'] },
  // Epoch > 0: the coordinator lost the group (deleted, state gone): rejoin; epoch 0: the id is another type's.
  GROUP_ID_NOT_FOUND: { code: 69, consumer: ['fenced', 'joinFatal'], share: ['fenced', 'joinFatal'] },
  // Share: also fatal for a ShareFetch / ShareAcknowledge, and an acknowledgement refused with
  // these fails at once (not resent).
  GROUP_AUTHORIZATION_FAILED: {
    code: 30,
    consumer: ['fatal'],
    classic: ['fatal'],
    share: ['fatal', 'requestFatal', 'ackFailed'],
  },
  TOPIC_AUTHORIZATION_FAILED: {
    code: 29,
    consumer: ['fatal'],
    classic: ['fatal'],
    share: ['fatal', 'requestFatal', 'ackFailed', 'partitionFatal'],
  },
  INVALID_REQUEST: {
    code: 42,
    consumer: ['fatal'],
    share: ['fatal', 'requestFatal', 'ackFailed'],
    classic: ['fatal'],
  },
  // Share: fatal for the heartbeat and a ShareFetch / ShareAcknowledge; as a partition's
  // acknowledgement error it is not in the failed set: resent like a retriable one (no reason
  // recorded).
  UNSUPPORTED_VERSION: {
    code: 35,
    consumer: ['fatal'],
    share: ['fatal', 'requestFatal'],
    classic: ['fatal'],
  },
  GROUP_MAX_SIZE_REACHED: { code: 81, consumer: ['fatal'], share: ['fatal'], classic: ['fatal'] },
  // Consumer: heartbeat features share groups do not have (server assignors, subscription
  // regexes, static membership).
  UNSUPPORTED_ASSIGNOR: { code: 112, consumer: ['fatal'], share: [] },
  // Code 128 is unknown to @platformatic/kafka's table: kafkaErrorName gives UNKNOWN_ERROR_128,
  // so this row never matches today (the error is retried).
  INVALID_REGULAR_EXPRESSION: { code: 128, consumer: ['fatal'], share: [] },
  // Classic: another process joined with this member's group.instance.id: it owns the
  // partitions now (Java's consumer stops too).
  FENCED_INSTANCE_ID: { code: 82, consumer: ['fatal'], share: [], classic: ['fatal'] },
  // Classic: the session timeout is outside the broker's group.min/max.session.timeout.ms.
  INVALID_SESSION_TIMEOUT: { code: 26, consumer: [], share: [], classic: ['fatal'] },
  // Share and classic: fatal (the group id belongs to a group of another type, or, classic, its
  // members use another protocol type). Consumer: not classified: the heartbeat is retried with
  // backoff (no reason recorded).
  INCONSISTENT_GROUP_PROTOCOL: { code: 23, consumer: [], share: ['fatal'], classic: ['fatal'] },
  SHARE_SESSION_NOT_FOUND: { code: 122, consumer: [], share: ['sessionReset'] },
  INVALID_SHARE_SESSION_EPOCH: { code: 123, consumer: [], share: ['sessionReset'] },
  // Code 133 is unknown to @platformatic/kafka's table (see INVALID_REGULAR_EXPRESSION): this row
  // never matches today (the request is retried, then a new session opened).
  SHARE_SESSION_LIMIT_REACHED: { code: 133, consumer: [], share: ['sessionReset'] },
}

const flagged = new Map<string, ReadonlySet<string>>()

/** The names of the errors with `flag` for `kind` (built once per pair). */
export function errorsFlagged(kind: GroupKind, flag: ErrorFlag): ReadonlySet<string> {
  const key = `${kind}:${flag}`
  let set = flagged.get(key)
  if (!set) {
    set = new Set(
      Object.entries(PROTOCOL_ERRORS)
        .filter(([, row]) => (row[kind] ?? []).includes(flag))
        .map(([name]) => name),
    )
    flagged.set(key, set)
  }
  return set
}

/** Errors after which the coordinator must be looked up again (both kinds alike). */
export const COORDINATOR_MOVED = errorsFlagged('consumer', 'coordinatorMoved')

/** Errors meaning the coordinator is busy; retry the same one after a pause (both kinds alike). */
export const COORDINATOR_BUSY = errorsFlagged('consumer', 'coordinatorBusy')

/** Partition errors fixed by refreshing metadata (the leader moved or is not known yet). */
export const STALE_LEADER = errorsFlagged('consumer', 'staleLeader')
