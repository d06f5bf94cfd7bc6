import { MultilaneError } from '../errors.ts'
/**
 * The envelope multilane stores in the OffsetCommit metadata string, so that several
 * features can share the one string Kafka keeps per committed partition.
 *
 *   metadata = "ml1" *( ";" key "=" value )
 *
 * Keys: `om` offset map token (see offset-map-codec.ts), `rf` segment routing fingerprint.
 * Values may not contain ';' or '='. Empty values are omitted (absent and empty mean the
 * same). Unknown keys and pairs without '=' are ignored on decode, so a newer writer can add
 * fields without breaking an older reader. A string that does not start with the `ml1`
 * prefix was written by some other client (or is empty) and is reported as foreign.
 */

/**
 * The broker's default `offset.metadata.max.bytes`: an OffsetCommit whose metadata is
 * longer is rejected with OFFSET_METADATA_TOO_LARGE. Brokers may be configured higher, but
 * this is the only size a client can count on.
 */
export const MAX_COMMIT_METADATA_BYTES = 4096

const PREFIX = 'ml1'
const KEY_OFFSET_MAP = 'om'
const KEY_ROUTING = 'rf'

/** Thrown when a field value cannot be stored in the envelope. */
export class CommitMetadataError extends MultilaneError<'COMMIT_METADATA'> {
  constructor(message: string) {
    super('COMMIT_METADATA', message)
  }
}

/** Fields multilane stores in the commit metadata. */
export interface CommitMetadataFields {
  /** Offset map token of the records done above the committed offset. */
  offsetMap?: string
  /** Routing fingerprint of a parallel segment. */
  routing?: string
}

/** Decoded commit metadata; `foreign` is true when it was not written by multilane. */
export interface DecodedCommitMetadata extends CommitMetadataFields {
  foreign: boolean
}

function pair(key: string, field: string, value: string | undefined): string {
  if (value === undefined || value === '') return ''
  if (value.includes(';') || value.includes('=')) {
    throw new CommitMetadataError(`commit metadata field ${field} may not contain ';' or '=': ${value}`)
  }
  return `;${key}=${value}`
}

/** Builds the metadata string for an OffsetCommit. */
export function encodeCommitMetadata(m: CommitMetadataFields): string {
  return PREFIX + pair(KEY_OFFSET_MAP, 'offsetMap', m.offsetMap) + pair(KEY_ROUTING, 'routing', m.routing)
}

/**
 * Parses a committed metadata string. Never throws: metadata from other clients is
 * reported as `{ foreign: true }` and should be ignored.
 */
export function decodeCommitMetadata(s: string | null): DecodedCommitMetadata {
  // Require the prefix to end at ';' so that a future "ml10" or "ml1x" is not misread.
  if (s === null || !(s === PREFIX || s.startsWith(`${PREFIX};`))) return { foreign: true }
  const result: DecodedCommitMetadata = { foreign: false }
  for (const part of s.slice(PREFIX.length + 1).split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const value = part.slice(eq + 1)
    if (value === '') continue
    // A later duplicate wins; multilane never writes duplicates.
    switch (part.slice(0, eq)) {
      case KEY_OFFSET_MAP:
        result.offsetMap = value
        break
      case KEY_ROUTING:
        result.routing = value
        break
    }
  }
  return result
}
