import type { PositionReset } from '../engine/types.ts'
import { WakeSignal } from '../engine/wake-signal.ts'
import { InFlightUnits } from './in-flight-units.ts'
import type { PartitionProgress } from './progress.ts'
import type { RuntimeTopic } from './runtime-input.ts'

/** Records of one topic counted against its budget, shared by the topic's partition runs. */
export interface TopicLoad {
  /** Records taken and runnable: running, or queued behind a running record (not parked). */
  active: number
  /** Granted during the current take, not dispatched yet. */
  reserved: number
}

/**
 * The processing state of one assigned partition: its progress, how many of its records are
 * taken and not finished, whether it takes records, and its abort signal.
 */
export class PartitionRun {
  readonly topic: RuntimeTopic
  readonly load: TopicLoad
  readonly partition: number
  readonly key: string
  /** What is done here; replaced on seek and offset reset. Set right after construction (it needs the run). */
  progress!: PartitionProgress
  readonly controller = new AbortController()
  /** False once revoked/lost: nothing of it is dispatched or committed any more. */
  active = true
  /** Set while a revocation drains this partition: nothing new is dispatched. */
  revoking = false
  /** Records taken and not yet finished (queued, running, or waiting for a retry). */
  inFlight = 0
  /** The units in flight, oldest first, with when each was taken: what health reports as stuck. */
  readonly takenAt = new InFlightUnits()
  /** Of those, records waiting for a retry or behind one in their lane. */
  parked = 0
  /** Granted during the current take, not dispatched yet. */
  reserved = 0
  /** Paused by its handler (`ctx.pause()`). */
  userPaused = false
  readonly idle = new WakeSignal()
  /** Manual offsets: records finished by the handler but not yet marked (with the progress they belong to), and the mark. */
  markedUpTo = -1
  finishedUnmarked: Array<{ offset: number; progress: PartitionProgress }> = []
  /** A requested seek, applied once the records already taken have finished. */
  seekTo: number | undefined
  /** The dispatcher is part-way through a batch of this partition (it yielded inside it). */
  dispatching = false
  /**
   * A position reset that came while the dispatcher was part-way through a batch: applied when
   * it leaves the batch, so the batch's records below the new position are tracked first.
   */
  pendingReset: PositionReset | undefined
  /** Consecutive failures per lane (dead letter queue with `independent: false`). */
  readonly laneFailures = new Map<string, number>()
  readonly #laneKeys: string[] = []

  constructor(topic: RuntimeTopic, load: TopicLoad, partition: number, key: string) {
    this.topic = topic
    this.load = load
    this.partition = partition
    this.key = key
  }

  /** True while records of this partition may be taken and dispatched. */
  get takesRecords(): boolean {
    return this.active && !this.revoking && !this.userPaused && this.seekTo === undefined
  }

  /**
   * True when a record of this partition that has not finished should be left to whoever gets
   * it next rather than retried: the partition is leaving, or a seek will move it.
   */
  get dropsUnfinished(): boolean {
    return !this.active || this.revoking || this.seekTo !== undefined
  }

  /** The scheduler key of virtual partition `lane` of this partition (built once per lane). */
  laneKey(lane: number): string {
    let key = this.#laneKeys[lane]
    if (key === undefined) {
      key = `${this.key}\u0000lane${lane}`
      this.#laneKeys[lane] = key
    }
    return key
  }

  /** Resolves when no record of this partition is in flight, or it is no longer active. */
  async whenIdle(): Promise<void> {
    // No timeout: a wait that nobody ends holds no timer, so it cannot keep the process alive.
    while (this.inFlight > 0 && this.active) await this.idle.wait()
  }
}
