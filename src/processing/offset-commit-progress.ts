import type { AssignedPartition, OffsetToCommit } from '../engine/types.ts'
import { MultilaneError } from '../errors.ts'
import type { EventBus } from '../instrumentation/events.ts'
import { decodeCommitMetadata, encodeCommitMetadata, MAX_COMMIT_METADATA_BYTES } from './commit-metadata.ts'
import { decodeOffsetMap, encodeOffsetMap } from './offset-map-codec.ts'
import { PartitionOffsetTracker } from './offset-tracker.ts'
import type { PartitionProgress, Progress, ProgressPartition } from './progress.ts'

/** Above this share of offset.metadata.max.bytes a partition stops taking new records… */
const MAP_BLOCK_RATIO = 0.75
/** …until its map is back under this share. */
const MAP_UNBLOCK_RATIO = 0.5

/** A consumer group partition's progress: the offset tracker plus what was last committed. */
export class CommittedPartition extends PartitionOffsetTracker implements PartitionProgress {
  readonly target: ProgressPartition
  /** What the broker holds; `version` is the tracker version it reflects, once known. */
  lastCommitted: { offset: number; metadata: string; version?: number } | undefined
  /** The map is near the size limit: intake is held and the event was emitted. */
  mapLimitReported = false

  constructor(target: ProgressPartition, position: number, doneAbove?: readonly number[]) {
    super(position, doneAbove)
    this.target = target
  }

  get committedOffset(): number {
    return this.lastCommitted?.offset ?? -1
  }
}

export interface OffsetCommitProgressOptions {
  consumerGroup: string
  events: EventBus
  /** Commits offsets for partitions the member owns (the engine's `GroupConsumer.commit`). */
  commit(offsets: readonly OffsetToCommit[]): Promise<void>
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

  constructor(options: OffsetCommitProgressOptions) {
    this.#group = options.consumerGroup
    this.#events = options.events
    this.#commit = options.commit
  }

  open(target: ProgressPartition, assigned: AssignedPartition): CommittedPartition {
    const committed = assigned.committed
    let doneAbove: number[] = []
    const meta = decodeCommitMetadata(committed?.metadata ?? null)
    if (meta.offsetMap && committed) {
      try {
        doneAbove = decodeOffsetMap(committed.offset, meta.offsetMap)
      } catch (error) {
        // A damaged map only costs replays: start from the committed offset.
        this.#events.emit('error.occurred', {
          type: 'consumer.commit.error',
          error: error as Error,
          consumerGroup: this.#group,
          topic: target.topic,
          partition: target.partition,
        })
      }
    }
    const progress = new CommittedPartition(target, assigned.position, doneAbove)
    progress.lastCommitted = committed
      ? { offset: committed.offset, metadata: committed.metadata ?? '' }
      : undefined
    return progress
  }

  reposition(previous: PartitionProgress, offset: number): CommittedPartition {
    // What was committed before the seek no longer describes the new position.
    const { target, mapLimitReported } = ours(previous)
    if (mapLimitReported) target.holdIntake(false)
    return new CommittedPartition(target, offset)
  }

  async flush(partitions: readonly PartitionProgress[]): Promise<void> {
    const pending: Array<{ progress: CommittedPartition; commit: PendingCommit }> = []
    for (const p of partitions) {
      const progress = ours(p)
      const commit = this.#toCommit(progress)
      if (commit) pending.push({ progress, commit })
    }
    if (pending.length === 0) return
    try {
      await this.#commit(pending.map((p) => p.commit))
    } catch (error) {
      this.#events.emit('error.occurred', {
        type: 'consumer.commit.error',
        error: error as Error,
        consumerGroup: this.#group,
      })
      return
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
    // Nothing finished since the last commit: skip encoding the map (and the size checks,
    // whose answer depends on the same state).
    const version = progress.version
    const last = progress.lastCommitted
    if (last?.version === version) return undefined
    const offset = progress.committable()
    const done = progress.doneAbove()
    let metadata = encodeCommitMetadata({})
    let mapBytes = 0
    if (done.length > 0) {
      const withMap = encodeCommitMetadata({ offsetMap: encodeOffsetMap(offset, done) })
      mapBytes = Buffer.byteLength(withMap)
      if (mapBytes <= MAX_COMMIT_METADATA_BYTES) metadata = withMap
    }
    this.#limitMapSize(progress, mapBytes)
    if (last && last.offset === offset && last.metadata === metadata) {
      last.version = version
      return undefined
    }
    const { topic, partition } = progress.target
    return { topic, partition, offset, metadata, mapBytes, version }
  }

  /**
   * Stop taking new records while the map is near the broker's metadata limit; finishing the
   * older ones shrinks it again. Over the limit the map is left out: replays, never loss.
   */
  #limitMapSize(progress: CommittedPartition, mapBytes: number): void {
    const { target } = progress
    if (mapBytes > MAX_COMMIT_METADATA_BYTES * MAP_BLOCK_RATIO) {
      if (!progress.mapLimitReported) {
        progress.mapLimitReported = true
        target.holdIntake(true)
        this.#events.emit('offsets.map_limit_reached', {
          consumerGroup: this.#group,
          topic: target.topic,
          partition: target.partition,
          bytes: mapBytes,
          limit: MAX_COMMIT_METADATA_BYTES,
        })
      }
    } else if (mapBytes < MAX_COMMIT_METADATA_BYTES * MAP_UNBLOCK_RATIO && progress.mapLimitReported) {
      progress.mapLimitReported = false
      target.holdIntake(false)
    }
  }
}

/** Progress objects reach flush() and reposition() from open(); anything else is a bug. */
function ours(progress: PartitionProgress): CommittedPartition {
  if (!(progress instanceof CommittedPartition)) {
    throw new MultilaneError('PROGRESS_MISMATCH', 'OffsetCommitProgress was given progress it did not create')
  }
  return progress
}
