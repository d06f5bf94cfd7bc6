import type { TopicDefinition } from '../app/definition.ts'
import { WakeSignal } from '../engine/wake-signal.ts'
import type { PartitionProgress } from './progress.ts'

/** Records of one topic in flight in this member, shared by the topic's partition runs. */
export interface TopicLoad {
  inFlight: number
}

/** Why a partition is paused; it is fetched again only when no reason is left. */
export type PauseReason =
  | 'user'
  | 'capacity'
  /** Progress asked to hold intake (a consumer group's offset map near its size limit). */
  | 'progress'
  | 'seek'

/**
 * The processing state of one assigned partition: its progress, how many of its
 * records are taken and not finished, why it is paused, and its abort signal.
 */
export class PartitionRun {
  readonly topic: TopicDefinition
  readonly load: TopicLoad
  readonly partition: number
  readonly key: string
  /** What is done here; replaced on seek. Set right after construction (it needs the run). */
  progress!: PartitionProgress
  readonly controller = new AbortController()
  /** False once revoked/lost: late completions are ignored. */
  active = true
  /** Set while a revocation drains this partition: nothing new is dispatched. */
  revoking = false
  /** Records taken and not yet finished (queued or running). */
  inFlight = 0
  readonly idle = new WakeSignal()
  readonly pauseReasons = new Set<PauseReason>()
  /** Manual offsets: records finished by the handler but not yet marked, and the mark. */
  markedUpTo = -1
  finishedUnmarked: number[] = []
  /** A requested seek, applied once the records already taken have finished. */
  seekTo: number | undefined
  /** Consecutive failures per lane (dead letter queue with `independent: false`). */
  readonly laneFailures = new Map<string, number>()

  constructor(topic: TopicDefinition, load: TopicLoad, partition: number, key: string) {
    this.topic = topic
    this.load = load
    this.partition = partition
    this.key = key
  }

  readonly #laneKeys: string[] = []

  /** The scheduler key of virtual partition `lane` of this partition (built once per lane). */
  laneKey(lane: number): string {
    let key = this.#laneKeys[lane]
    if (key === undefined) {
      key = `${this.key}\u0000lane${lane}`
      this.#laneKeys[lane] = key
    }
    return key
  }

  /** Resolves when no record of this partition is in flight. */
  async whenIdle(): Promise<void> {
    while (this.inFlight > 0) await this.idle.wait(1000)
  }
}
