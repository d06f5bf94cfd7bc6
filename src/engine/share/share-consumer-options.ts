import { resolveConnection } from '../../kafka/connection-options.ts'
import { keepV8DefaultsProblem } from '../v8-buffer-gc.ts'
import { ShareError } from './errors.ts'
import type { ShareFetchOptions } from './session-host.ts'
import type { ShareConsumerOptions } from './share-consumer-types.ts'

const DEFAULT_LOCK_BUDGET = 2000

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v <= 0) {
    throw new ShareError('INVALID_OPTION', `${name} must be a positive integer, got ${String(value)}`)
  }
  return v
}

/** A ShareConsumer's options checked (each rule names its option) and defaulted. */
export function resolveShareOptions(options: ShareConsumerOptions): {
  fetch: ShareFetchOptions
  lockBudget: number
  closeTimeoutMs: number
} {
  if (!options.groupId) throw new ShareError('INVALID_OPTION', 'groupId must be a non-empty string')
  if (!options.topics?.length || options.topics.some((t) => typeof t !== 'string' || t === '')) {
    throw new ShareError(
      'INVALID_OPTION',
      `share group "${options.groupId}": topics must be non-empty topic names`,
    )
  }
  if (
    options.acquireMode !== undefined &&
    !['batch_optimized', 'record_limit'].includes(options.acquireMode)
  ) {
    throw new ShareError(
      'INVALID_OPTION',
      `acquireMode must be "batch_optimized" or "record_limit", got ${JSON.stringify(options.acquireMode)}`,
    )
  }
  const fetch: ShareFetchOptions = {
    maxRecords: positiveInteger('maxRecords', options.maxRecords, 500),
    maxWaitMs: positiveInteger('maxWaitMs', options.maxWaitMs, 500),
    minBytes: positiveInteger('minBytes', options.minBytes, 1),
    maxBytes: positiveInteger('maxBytes', options.maxBytes, 50 * 1024 * 1024),
    acquireMode: options.acquireMode ?? 'batch_optimized',
  }
  const lockBudget = positiveInteger('maxRecordLocks', options.maxRecordLocks, DEFAULT_LOCK_BUDGET)
  const closeTimeoutMs = positiveInteger('closeTimeoutMs', options.closeTimeoutMs, 30_000)
  // A request timeout destroys the connection, and with it every lock of its share session:
  // a fetch must be able to wait its full maxWaitMs with room to spare.
  const connection = resolveConnection(options)
  if (connection.requestTimeoutMs < fetch.maxWaitMs + 5000) {
    throw new ShareError(
      'INVALID_OPTION',
      `requestTimeoutMs (${connection.requestTimeoutMs}) must be at least maxWaitMs + 5000 (${fetch.maxWaitMs + 5000}): a timed-out fetch closes its connection, which releases every lock of its share session`,
    )
  }
  // Read again when the consumer starts (src/engine/v8-buffer-gc.ts): a typo fails here.
  const problem = keepV8DefaultsProblem()
  if (problem) throw new ShareError('INVALID_OPTION', problem)
  return { fetch, lockBudget, closeTimeoutMs }
}
