import { createHash } from 'node:crypto'
import { defaultSegmentReducer, karafkaReducer } from './reducers.ts'
import { normalizedSource } from './source-normalize.ts'

/** What a routing fingerprint covers. */
export interface RoutingIdentity {
  count: number
  mergeKey: string
  partitioner: (...args: never[]) => unknown
  reducer: (...args: never[]) => unknown
  /** When set, stands for the partitioner and reducer (their source text may change harmlessly). */
  routingVersion?: string
}

/**
 * multilane's own reducers stand for a version constant, not their source text: the text depends
 * on how multilane itself was loaded (tsx/esbuild reprints it, a build reindents it) while their
 * values never change (tests pin them). Bump a constant only if a reducer's values ever do.
 */
const BUILT_IN_ROUTING = new Map<unknown, string>([
  [defaultSegmentReducer, 'multilane:defaultSegmentReducer@1'],
  [karafkaReducer, 'multilane:karafkaReducer@1'],
])

/**
 * A short fingerprint of a segmented group's routing: the segment count, the merge key, and
 * either the user's `routingVersion` or the partitioner and reducer (built-in reducers by a
 * version constant, others by their source text). Stored in every segment's commit metadata: a
 * member whose routing differs from what its segment was committed with would process records
 * another segment already did, or skip some. 16 base64url characters (96 bits of SHA-256).
 *
 * Source text is compared as a normalised token stream ({@link normalizedSource}): layout,
 * comments, semicolons, quote style and the rewrites of tsc and esbuild (tsx) do not count,
 * literals and identifiers do (`get('user id')` and `get('userid')` differ). Minified or bundled
 * code (renamed identifiers), and functions whose behaviour lives elsewhere (closures over
 * variables, bound or native functions: `[native code]`) are beyond the source text: set
 * `routingVersion`.
 */
export function routingFingerprint(routing: RoutingIdentity): string {
  const what =
    routing.routingVersion !== undefined
      ? ['v1', routing.count, routing.mergeKey, 'version', routing.routingVersion]
      : [
          'v2',
          routing.count,
          routing.mergeKey,
          'source',
          sourceOf(routing.partitioner),
          sourceOf(routing.reducer),
        ]
  return createHash('sha256').update(JSON.stringify(what)).digest('base64url').slice(0, 16)
}

/** A function's routing identity: a built-in's version constant, else its normalised source. */
function sourceOf(fn: (...args: never[]) => unknown): string {
  return BUILT_IN_ROUTING.get(fn) ?? normalizedSource(String(fn))
}
