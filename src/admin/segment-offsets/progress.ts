/**
 * What a committed offset says is done: every record below the offset, plus the records its
 * offset map lists above it. The map counts only when it was written for this offset (`ob`
 * equals the offset): a map copied next to another offset describes other records.
 */
import { decodeCommitMetadata } from '../../processing/consumer-group/commit-metadata.ts'
import { decodeOffsetMap } from '../../processing/consumer-group/offset-map-codec.ts'
import type { Committed } from './group-offsets.ts'

/** Why a committed offset map is not used. */
export type UnusedMap = 'base_mismatch' | 'undecodable'

/** A committed offset read as progress. */
export interface Progress {
  offset: number
  /** Offsets done above `offset`, ascending (empty without a usable map). */
  done: number[]
  /** The map's token when it is usable (copied as it is by distribute). */
  token?: string
  /** Set when a map was there but cannot be used, and why. */
  unusedMap?: { reason: UnusedMap; base: number | undefined }
  /** The segment routing fingerprint stored beside the offset (`rf`). */
  routing?: string
  /** The metadata was not written by multilane (another client, or empty). */
  foreign: boolean
}

/** Reads a committed offset and its metadata as progress. */
export function progressOf(committed: Committed): Progress {
  const decoded = decodeCommitMetadata(committed.metadata)
  const progress: Progress = { offset: committed.offset, done: [], foreign: decoded.foreign }
  if (decoded.routing !== undefined) progress.routing = decoded.routing
  const map = decoded.offsetMap
  if (!map) return progress
  if (map.base !== committed.offset) {
    progress.unusedMap = { reason: 'base_mismatch', base: map.base }
    return progress
  }
  try {
    progress.done = decodeOffsetMap(committed.offset, map.token)
    progress.token = map.token
  } catch {
    progress.unusedMap = { reason: 'undecodable', base: map.base }
  }
  return progress
}

/** An offset as the before/after table shows it. */
export interface OffsetState {
  offset: number
  /** Records the offset map lists as done above the offset. */
  mapped: number
  /** The routing fingerprint stored with it, if any. */
  routing?: string
}

export function stateOf(progress: Progress): OffsetState {
  const state: OffsetState = { offset: progress.offset, mapped: progress.done.length }
  if (progress.routing !== undefined) state.routing = progress.routing
  return state
}

/** Why a map was left out, for a note. */
export function unusedMapText(progress: Progress): string {
  const unused = progress.unusedMap
  if (!unused) return ''
  return unused.reason === 'base_mismatch'
    ? `its offset map was written for offset ${unused.base ?? '(unknown)'}, not ${progress.offset}`
    : 'its offset map cannot be decoded'
}
