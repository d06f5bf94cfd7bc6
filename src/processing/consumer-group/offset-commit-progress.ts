import type { AssignedPartition, OffsetToCommit, TopicPartition } from '../../engine/types.ts'
import { MultilaneError } from '../../errors.ts'
import type { EventBus } from '../../instrumentation/events.ts'
import type {
  FlushOptions,
  PartitionProgress,
  Progress,
  ProgressPartition,
  RecordOutcome,
} from '../progress.ts'
import { decodeCommitMetadata, encodeCommitMetadata, MAX_COMMIT_METADATA_BYTES } from './commit-metadata.ts'
import { decodeOffsetMap, encodeOffsetMap } from './offset-map-codec.ts'
import { PartitionOffsetTracker } from './offset-tracker.ts'

/** Above this share of offset.metadata.max.bytes a partition stops taking new records… */
const MAP_HOLD_RATIO = 0.75
/** …until its map is back under this share. */
const MAP_RELEASE_RATIO = 0.5

/**
 * Offsets a partition's tracker may hold from its lowest unfinished record on (finished ones
 * above it included) before the partition takes no more records. Without it one stuck record
 * lets the tracker grow without bound while later records keep finishing: memory and each
 * commit's cost grow with it, and the offset map outgrows what can be stored. 100,000 entries
 * are about 1 MB and a millisecond per commit.
 */
export const OFFSET_WINDOW_LIMIT = 100_000

/** Reports what a partition's progress decided about its own intake. */
interface IntakeReports {
  windowFull(progress: CommittedPartition): void
}

/** A consumer group partition's progress: the offset tracker plus what was last committed. */
export class CommittedPartition extends PartitionOffsetTracker implements PartitionProgress {
  readonly target: ProgressPartition
  /** What the broker holds; `version` is the tracker version it reflects, once known. */
  lastCommitted: { offset: number; metadata: string; version?: number } | undefined
  /** Intake is held because this member's part of the offset map is near the size limit. */
  mapHeld = false
  /** The window limit was reported for the current episode (reset once there is room again). */
  windowReported = false
  /**
   * Progress this one replaced at a position reset, with records still unfinished below
   * `until` (they are not fetched again): commits stay below them until they finish.
   */
  predecessors: Array<{ progress: CommittedPartition; until: number }> = []
  readonly #reports: IntakeReports

  constructor(
    target: ProgressPartition,
    reports: IntakeReports,
    position: number,
    doneAbove?: readonly number[],
  ) {
    super(position, doneAbove)
    this.target = target
    this.#reports = reports
  }

  get committedOffset(): number {
    return this.lastCommitted?.offset ?? -1
  }

  finish(offset: number, outcome: RecordOutcome): void {
    if (outcome === 'released') {
      throw new MultilaneError(
        'PROGRESS_MISMATCH',
        'a consumer group cannot release a record (share groups only)',
      )
    }
    this.complete(offset)
  }

  /** Stays pending: never committed past, so whoever owns the partition next gets it again. */
  abandon(_offset: number): void {}

  intakeAllowance(): number {
    if (this.mapHeld) return 0
    const room = OFFSET_WINDOW_LIMIT - this.windowSize()
    if (room > 0) {
      this.windowReported = false
      return room
    }
    if (!this.windowReported) {
      this.windowReported = true
      this.#reports.windowFull(this)
    }
    return 0
  }
}

/**
 * A tag stored with every commit of the member and checked when a partition is assigned: a
 * parallel segment's routing fingerprint.
 */
export interface CommitRouting {
  fingerprint: string
  /** The partition's commit carries another fingerprint; throwing refuses the partition (fatal). */
  mismatch(found: string, partition: TopicPartition): void
}

export interface OffsetCommitProgressOptions {
  consumerGroup: string
  events: EventBus
  /** Commits offsets for partitions the member owns (the engine's `GroupConsumer.commit`). */
  commit(offsets: readonly OffsetToCommit[]): Promise<void>
  routing?: CommitRouting
}

interface PendingCommit extends OffsetToCommit {
  metadata: string
  mapBytes: number
  version: number
}

/**
 * Consumer group progress: commits, per partition, the lowest unfinished offset with an offset
 * map of the records finished above it in the commit metadata, and restores both on assignment.
 */
export class OffsetCommitProgress implements Progress {
  readonly #group: string
  readonly #events: EventBus
  readonly #commit: OffsetCommitProgressOptions['commit']
  readonly #reports: IntakeReports
  readonly #routing: CommitRouting | undefined

  constructor(options: OffsetCommitProgressOptions) {
    this.#routing = options.routing
    this.#group = options.consumerGroup
    this.#events = options.events
    this.#commit = options.commit
    this.#reports = {
      windowFull: (progress) => {
        const { topic, partition } = progress.target
        this.#events.emit('offsets.window_limit_reached', {
          consumerGroup: this.#group,
          topic,
          partition,
          lowestUnfinished: progress.committable(),
          limit: OFFSET_WINDOW_LIMIT,
        })
      },
    }
  }

  open(target: ProgressPartition, assigned: AssignedPartition): CommittedPartition {
    const committed = assigned.committed
    const found = committed ? decodeCommitMetadata(committed.metadata).routing : undefined
    if (this.#routing && found !== undefined && found !== this.#routing.fingerprint) {
      this.#routing.mismatch(found, { topic: target.topic, partition: target.partition })
    }
    const doneAbove = committed ? this.#restoredMap(target, committed.offset, committed.metadata) : []
    const progress = new CommittedPartition(target, this.#reports, assigned.position, doneAbove)
    progress.lastCommitted = committed
      ? { offset: committed.offset, metadata: committed.metadata ?? '' }
      : undefined
    return progress
  }

  /** The offsets a committed offset map says are done, when it belongs to this committed offset. */
  #restoredMap(target: ProgressPartition, committedOffset: number, metadata: string | null): number[] {
    const map = decodeCommitMetadata(metadata).offsetMap
    if (!map) return []
    const discarded = (reason: 'base_mismatch' | 'undecodable', error?: Error) =>
      this.#events.emit('offsets.map_discarded', {
        consumerGroup: this.#group,
        topic: target.topic,
        partition: target.partition,
        committedOffset,
        mapBase: map.base,
        reason,
        error,
      })
    if (map.base !== committedOffset) {
      // Written for another offset (metadata copied while offsets were translated): its
      // offsets would be misread, skipping records that were never processed.
      discarded('base_mismatch')
      return []
    }
    try {
      return decodeOffsetMap(committedOffset, map.token)
    } catch (error) {
      // A damaged map only costs replays: start from the committed offset.
      discarded('undecodable', error as Error)
      return []
    }
  }

  reposition(previous: PartitionProgress, offset: number, keepUnfinished = false): CommittedPartition {
    // What was committed before the seek no longer describes the new position.
    const old = ours(previous)
    const progress = new CommittedPartition(old.target, this.#reports, offset)
    if (keepUnfinished) {
      // Records from `offset` on come again from the new position: only those below it hold.
      progress.predecessors = [
        ...old.predecessors.map((p) => ({ progress: p.progress, until: Math.min(p.until, offset) })),
        { progress: old, until: offset },
      ]
    }
    if (old.mapHeld) old.target.intakeFreed()
    return progress
  }

  async flush(partitions: readonly PartitionProgress[], options: FlushOptions = {}): Promise<void> {
    const { timeoutMs, throwOnError } = options
    const pending: Array<{ progress: CommittedPartition; commit: PendingCommit }> = []
    for (const p of partitions) {
      const progress = ours(p)
      const commit = this.#toCommit(progress)
      if (commit) pending.push({ progress, commit })
    }
    if (pending.length === 0) return
    let timer: NodeJS.Timeout | undefined
    try {
      const commit = this.#commit(pending.map((p) => p.commit))
      await (timeoutMs === undefined
        ? commit
        : Promise.race([
            commit,
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () =>
                  reject(
                    new MultilaneError('COMMIT_TIMEOUT', `the commit did not finish within ${timeoutMs} ms`),
                  ),
                timeoutMs,
              )
            }),
          ]))
    } catch (error) {
      this.#events.emit('error.occurred', {
        type: 'consumer.commit.error',
        error: error as Error,
        consumerGroup: this.#group,
      })
      if (throwOnError) throw error
      return
    } finally {
      clearTimeout(timer)
    }
    for (const { progress, commit } of pending) {
      progress.lastCommitted = { offset: commit.offset, metadata: commit.metadata, version: commit.version }
    }
    this.#events.emit('offsets.committed', {
      consumerGroup: this.#group,
      offsets: pending.map(({ commit }) => ({
        topic: commit.topic,
        partition: commit.partition,
        offset: commit.offset,
        offsetMapBytes: commit.mapBytes,
      })),
    })
  }

  /** The offset and metadata to commit for a partition, or undefined when nothing changed. */
  #toCommit(progress: CommittedPartition): PendingCommit | undefined {
    const version = progress.version
    const last = progress.lastCommitted
    const floor = unfinishedBefore(progress)
    if (floor !== undefined && floor < progress.committable()) {
      // Records from before a position reset still run below: commit their lowest, no map.
      const metadata = encodeCommitMetadata({ routing: this.#routing?.fingerprint })
      if (last && last.offset === floor && last.metadata === metadata) return undefined
      const { topic, partition } = progress.target
      return { topic, partition, offset: floor, metadata, mapBytes: 0, version: -1 }
    }
    // Nothing finished since the last commit: skip encoding the map (and the size checks,
    // whose answer depends on the same state).
    if (last?.version === version) return undefined
    const offset = progress.committable()
    const done = progress.doneAbove()
    const routing = this.#routing?.fingerprint
    let metadata = encodeCommitMetadata({ routing })
    let mapBytes = 0
    if (done.length > 0) {
      mapBytes = Number.POSITIVE_INFINITY
      const token = mapToken(offset, done)
      if (token !== undefined) {
        const withMap = encodeCommitMetadata({ offsetMap: { base: offset, token }, routing })
        mapBytes = Buffer.byteLength(withMap)
        if (mapBytes <= MAX_COMMIT_METADATA_BYTES) metadata = withMap
      }
    }
    // Holding intake only helps with what finishing this member's records can shrink: offsets
    // restored from the previous owner's map shrink only as later records are taken.
    const ownBytes = progress.hasRestored() ? ownMapBytes(offset, progress.doneAbove(true)) : mapBytes
    this.#limitMapSize(progress, ownBytes, mapBytes)
    if (last && last.offset === offset && last.metadata === metadata) {
      last.version = version
      return undefined
    }
    const { topic, partition } = progress.target
    return { topic, partition, offset, metadata, mapBytes: Number.isFinite(mapBytes) ? mapBytes : 0, version }
  }

  /**
   * Stop taking new records while the map is near the broker's metadata limit; finishing the
   * older ones shrinks it again. Over the limit the map is left out: replays, never loss.
   */
  #limitMapSize(progress: CommittedPartition, ownBytes: number, mapBytes: number): void {
    const { target } = progress
    if (ownBytes > MAX_COMMIT_METADATA_BYTES * MAP_HOLD_RATIO) {
      if (!progress.mapHeld) {
        progress.mapHeld = true
        this.#events.emit('offsets.map_limit_reached', {
          consumerGroup: this.#group,
          topic: target.topic,
          partition: target.partition,
          bytes: Number.isFinite(mapBytes) ? mapBytes : ownBytes,
          limit: MAX_COMMIT_METADATA_BYTES,
        })
      }
    } else if (ownBytes < MAX_COMMIT_METADATA_BYTES * MAP_RELEASE_RATIO && progress.mapHeld) {
      progress.mapHeld = false
      target.intakeFreed()
    }
  }
}

/**
 * The lowest record still unfinished in progress a position reset replaced (and that will not
 * be fetched again); drops predecessors that have none left.
 */
function unfinishedBefore(progress: CommittedPartition): number | undefined {
  if (progress.predecessors.length === 0) return undefined
  let floor: number | undefined
  progress.predecessors = progress.predecessors.filter(({ progress: p, until }) => {
    const lowest = p.lowestPending()
    if (lowest === undefined || lowest >= until) return false
    floor = floor === undefined ? lowest : Math.min(floor, lowest)
    return true
  })
  return floor
}

/** The offset map token, or undefined when the set is too large for any map (the decoder's limit). */
function mapToken(base: number, done: readonly number[]): string | undefined {
  try {
    return encodeOffsetMap(base, done)
  } catch {
    return undefined
  }
}

function ownMapBytes(base: number, done: readonly number[]): number {
  if (done.length === 0) return 0
  const token = mapToken(base, done)
  return token === undefined
    ? Number.POSITIVE_INFINITY
    : Buffer.byteLength(encodeCommitMetadata({ offsetMap: { base, token } }))
}

/** Progress objects reach flush() and reposition() from open(); anything else is a bug. */
function ours(progress: PartitionProgress): CommittedPartition {
  if (!(progress instanceof CommittedPartition)) {
    throw new MultilaneError('PROGRESS_MISMATCH', 'OffsetCommitProgress was given progress it did not create')
  }
  return progress
}
