import { MultilaneError } from '../../errors.ts'
/**
 * The envelope multilane stores in the OffsetCommit metadata string, so that several
 * features can share the one string Kafka keeps per committed partition.
 *
 *   metadata = "ml1" *( ";" key "=" value ) NUL
 *
 * Keys: `ob` the committed offset the offset map was written with (decimal), `om` the offset
 * map token (see offset-map-codec.ts), `rf` segment routing fingerprint. An offset map is
 * relative to the offset it was committed with, so it travels with that offset: a map whose
 * `ob` differs from the offset stored beside it (a tool copied the metadata while translating
 * offsets, e.g. MirrorMaker 2's group offset sync) describes other records and must not be used.
 *
 * Values may not contain ';', '=' or NUL. Empty values are omitted (absent and empty mean the
 * same). Unknown keys and pairs without '=' are ignored on decode, so a newer writer can add
 * fields without breaking an older reader. A string that does not start with the `ml1` prefix
 * was written by some other client (or is empty) and is reported as foreign.
 *
 * The trailing NUL: librdkafka (and so Python's confluent-kafka) reads committed metadata as a
 * NUL-terminated C string, and reads past the end of a string without one (garbage, or a
 * UnicodeDecodeError in Python). multilane writes one and ignores it on decode; Java clients
 * see it as the last character of the string.
 */

/**
 * The broker's default `offset.metadata.max.bytes`: an OffsetCommit whose metadata is
 * longer is rejected with OFFSET_METADATA_TOO_LARGE. Brokers may be configured higher, but
 * this is the only size a client can count on.
 */
export const MAX_COMMIT_METADATA_BYTES = 4096

const PREFIX = 'ml1'
const TERMINATOR = '\u0000'
const KEY_MAP_BASE = 'ob'
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
  /** Offset map of the records done above the committed offset, and the offset it is relative to. */
  offsetMap?: { base: number; token: string }
  /** Routing fingerprint of a parallel segment. */
  routing?: string
}

/** Decoded commit metadata; `foreign` is true when it was not written by multilane. */
export interface DecodedCommitMetadata {
  foreign: boolean
  /**
   * The offset map with the offset it was written with; `base` is undefined when that offset
   * is missing or malformed (the map cannot be used then).
   */
  offsetMap?: { base: number | undefined; token: string }
  routing?: string
}

function pair(key: string, field: string, value: string | undefined): string {
  if (value === undefined || value === '') return ''
  if (value.includes(';') || value.includes('=') || value.includes(TERMINATOR)) {
    throw new CommitMetadataError(`commit metadata field ${field} may not contain ';', '=' or NUL: ${value}`)
  }
  return `;${key}=${value}`
}

/** Builds the metadata string for an OffsetCommit. */
export function encodeCommitMetadata(m: CommitMetadataFields): string {
  const map = m.offsetMap?.token ? m.offsetMap : undefined
  if (map && !(Number.isSafeInteger(map.base) && map.base >= 0)) {
    throw new CommitMetadataError(`offset map base must be a non-negative safe integer, got ${map.base}`)
  }
  return (
    PREFIX +
    (map
      ? pair(KEY_MAP_BASE, 'offsetMap.base', String(map.base)) + pair(KEY_OFFSET_MAP, 'offsetMap', map.token)
      : '') +
    pair(KEY_ROUTING, 'routing', m.routing) +
    TERMINATOR
  )
}

/**
 * Parses a committed metadata string. Never throws: metadata from other clients is
 * reported as `{ foreign: true }` and should be ignored.
 */
export function decodeCommitMetadata(raw: string | null): DecodedCommitMetadata {
  const s = raw?.endsWith(TERMINATOR) ? raw.slice(0, -TERMINATOR.length) : raw
  // Require the prefix to end at ';' so that a future "ml10" or "ml1x" is not misread.
  if (s == null || !(s === PREFIX || s.startsWith(`${PREFIX};`))) return { foreign: true }
  const result: DecodedCommitMetadata = { foreign: false }
  let base: string | undefined
  let token: string | undefined
  for (const part of s.slice(PREFIX.length + 1).split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const value = part.slice(eq + 1)
    if (value === '') continue
    // A later duplicate wins; multilane never writes duplicates.
    switch (part.slice(0, eq)) {
      case KEY_MAP_BASE:
        base = value
        break
      case KEY_OFFSET_MAP:
        token = value
        break
      case KEY_ROUTING:
        result.routing = value
        break
    }
  }
  if (token !== undefined) {
    const b = base !== undefined && /^(0|[1-9][0-9]{0,15})$/.test(base) ? Number(base) : undefined
    result.offsetMap = { base: b !== undefined && Number.isSafeInteger(b) ? b : undefined, token }
  }
  return result
}
