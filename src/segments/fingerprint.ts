import { createHash } from 'node:crypto'

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
 * A short fingerprint of a segmented group's routing: the segment count, the merge key, and
 * either the user's `routingVersion` or the source text of the partitioner and reducer. Stored
 * in every segment's commit metadata: a member whose routing differs from what its segment was
 * committed with would process records another segment already did, or skip some.
 * 16 base64url characters (96 bits of SHA-256).
 *
 * The source text is compared without whitespace and semicolons: the same TypeScript run with
 * Node's type stripping (types blanked out) and compiled by `tsc` (reindented, semicolons
 * added) must give one fingerprint — an app run from source and its segments CLI run against
 * the build (or the reverse) would otherwise refuse each other. Minified or bundled code
 * (renamed identifiers), functions whose behaviour lives elsewhere (closures over variables,
 * bound or native functions: `[native code]`) are beyond the source text: set `routingVersion`.
 */
export function routingFingerprint(routing: RoutingIdentity): string {
  const what =
    routing.routingVersion !== undefined
      ? ['v1', routing.count, routing.mergeKey, 'version', routing.routingVersion]
      : [
          'v1',
          routing.count,
          routing.mergeKey,
          'source',
          sourceOf(routing.partitioner),
          sourceOf(routing.reducer),
        ]
  return createHash('sha256').update(JSON.stringify(what)).digest('base64url').slice(0, 16)
}

/** A function's source text without whitespace and semicolons (see {@link routingFingerprint}). */
function sourceOf(fn: (...args: never[]) => unknown): string {
  return String(fn).replace(/[\s;]+/g, '')
}
