import type { PartitionState } from './partition-state.ts'

/**
 * The leader's log diverged from what this member fetched: records of the epoch it last read
 * end at `endOffset`; the records from there on were replaced (an unclean leader election
 * truncated them). The partition fetches again from `endOffset`, as the Java client does.
 * - `validated`: the leader has that epoch up to (or past) the position: nothing was truncated
 *   below it.
 * - `reset`: records already handed over were truncated: the fetcher must move the position
 *   to `endOffset` and tell the taker (a position reset).
 * - otherwise only buffered records nobody has taken yet were truncated: they are dropped here
 *   (returned, for the fetcher's totals) and the position moved back; buffered records below
 *   `endOffset` are still valid and are kept.
 */
export function repairDivergence(
  state: PartitionState,
  endOffset: number,
): 'validated' | 'reset' | { records: number; bytes: number } {
  if (endOffset >= state.position) {
    // Validation is done for this epoch.
    state.lastFetchedEpoch = -1
    return 'validated'
  }
  if (endOffset < state.consumerPosition()) return 'reset'
  const records = state.buffer.records
  const bytes = state.buffer.truncateFrom(endOffset)
  const handedUpTo = state.handedUpTo
  state.reposition(endOffset)
  state.handedUpTo = Math.min(handedUpTo, endOffset)
  return { records: records - state.buffer.records, bytes }
}
