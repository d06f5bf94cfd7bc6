import type { MultilaneEvents } from '../instrumentation/events.ts'
import type { PartitionRun } from './partition-run.ts'
import type { SourcePartitionStats } from './record-source.ts'

/** A member's health as `App.health()` reads it. */
export interface RuntimeHealth {
  /** The Kafka group (a segment's own group name). */
  group: string
  /** How logs name the member. */
  label: string
  state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped'
  failure: Error | undefined
  partitions: Array<{ topic: string; partition: number; inFlight: number; oldestInFlightMs: number }>
}

type PartitionStatistics = MultilaneEvents['statistics.emitted']['partitions'][number]

/** Per active run, its records in flight and how long the oldest of them has been. */
export function partitionsHealth(runs: Iterable<PartitionRun>, now: number): RuntimeHealth['partitions'] {
  const partitions: RuntimeHealth['partitions'] = []
  for (const run of runs) {
    if (!run.active) continue
    const oldest = run.takenAt.oldestTakenAt()
    partitions.push({
      topic: run.topic.name,
      partition: run.partition,
      inFlight: run.inFlight,
      oldestInFlightMs: oldest === undefined ? 0 : now - oldest,
    })
  }
  return partitions
}

/** A partition's line of `statistics.emitted`: the source's fetch statistics and the runtime's own (no run: not processed here). */
export function partitionStatistics(
  s: SourcePartitionStats,
  run: PartitionRun | undefined,
): PartitionStatistics {
  return {
    topic: s.topic,
    partition: s.partition,
    lag: s.lag,
    buffered: s.buffered,
    inFlight: run?.inFlight ?? 0,
    committed: run?.progress.committedOffset ?? -1,
    // Not taking records: paused by its handler, repositioning, or held by its progress.
    paused: s.paused || (run !== undefined && (!run.takesRecords || run.progress.intakeAllowance() === 0)),
    ...(s.locks === undefined ? {} : { locks: s.locks }),
  }
}
