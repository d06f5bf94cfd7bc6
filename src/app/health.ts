// What `app.health()` answers: live (the process should keep running) and ready (every member
// is doing its job), with the reasons when not, per member. Read from the runtimes on each call;
// only fencing is remembered from events (a lost assignment until the next one).
import type { EventBus } from '../instrumentation/events.ts'
import type { RuntimeHealth } from '../processing/processing-runtime.ts'

/** One group member's health (a segmented group has one per segment this process runs). */
export interface GroupHealth {
  /** The Kafka group (a segment's own group name). */
  group: string
  kind: 'consumer' | 'share'
  /** The member's state: `running` once it joined and fetches. */
  state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped'
  ready: boolean
  /** Why it is not ready (empty when ready). */
  reasons: string[]
  /** Partitions assigned to this member. */
  partitions: number
  /** Partitions whose oldest record in flight was taken longer than `stuckAfterMs` ago. */
  stuck: Array<{ topic: string; partition: number; inFlightForMs: number }>
}

/** `app.health()`: for liveness and readiness probes (`multilane run --http-port`). */
export interface AppHealth {
  /** False once the app failed for good or stopped: a restart is in order. */
  live: boolean
  /** True when the app runs and every member is ready. */
  ready: boolean
  /** Why it is not live or not ready, one line each, naming the group (empty when ready). */
  reasons: string[]
  groups: GroupHealth[]
}

/** How health judges members (`createApp({ health })`). */
export interface HealthSettings {
  /** A partition whose oldest record has been in flight (taken, not finished) longer is stuck. */
  stuckAfterMs: number
  /** A member without partitions is not ready (false: a spare member is ready too). */
  requireAssignment: boolean
}

/** Remembers which members lost their partitions (fenced, or their session expired) and have no new assignment yet. */
export class FencingWatch {
  readonly #lost = new Set<string>()

  constructor(events: EventBus) {
    events.on('partitions.revoked', (e) => {
      if (e.reason === 'lost') this.#lost.add(e.consumerGroup)
    })
    events.on('partitions.assigned', (e) => {
      if (e.partitions.length > 0) this.#lost.delete(e.consumerGroup)
    })
  }

  lost(group: string): boolean {
    return this.#lost.has(group)
  }
}

export interface HealthInput {
  appState: 'defining' | 'starting' | 'running' | 'stopping' | 'stopped'
  failure: Error | undefined
  members: ReadonlyArray<{ health: RuntimeHealth; kind: 'consumer' | 'share' }>
  fencing: FencingWatch
  settings: HealthSettings
}

/** Judges the app's health from its members' (pure but for what `fencing` remembers). */
export function judgeHealth(input: HealthInput): AppHealth {
  const { settings } = input
  const groups = input.members.map(({ health, kind }): GroupHealth => {
    const reasons: string[] = []
    const where = `${kind === 'share' ? 'shareGroup' : 'consumerGroup'} "${health.group}"`
    if (health.failure) reasons.push(`${where}: failed: ${health.failure.message}`)
    else if (health.state !== 'running') reasons.push(`${where}: not fetching (${health.state})`)
    if (input.fencing.lost(health.group))
      reasons.push(`${where}: fenced (lost its partitions) and not assigned again yet`)
    else if (health.state === 'running' && settings.requireAssignment && health.partitions.length === 0)
      reasons.push(`${where}: no partitions assigned`)
    const stuck = health.partitions
      .filter((p) => p.inFlight > 0 && p.oldestInFlightMs > settings.stuckAfterMs)
      .map((p) => ({ topic: p.topic, partition: p.partition, inFlightForMs: p.oldestInFlightMs }))
    for (const p of stuck)
      reasons.push(
        `${where}: topic "${p.topic}" partition ${p.partition} is stuck: a record has been in flight for ${Math.round(p.inFlightForMs / 1000)} s (more than ${Math.round(settings.stuckAfterMs / 1000)} s)`,
      )
    return {
      group: health.group,
      kind,
      state: health.state,
      ready: reasons.length === 0,
      reasons,
      partitions: health.partitions.length,
      stuck,
    }
  })
  const live =
    input.failure === undefined &&
    input.appState !== 'stopping' &&
    input.appState !== 'stopped' &&
    groups.every((g) => g.state !== 'stopped' || input.appState === 'defining')
  const reasons: string[] = []
  if (input.failure) reasons.push(`the app failed: ${input.failure.message}`)
  else if (input.appState !== 'running')
    reasons.push(`the app is ${input.appState === 'defining' ? 'not started' : input.appState}`)
  for (const g of groups) reasons.push(...g.reasons)
  return { live, ready: live && input.appState === 'running' && reasons.length === 0, reasons, groups }
}
