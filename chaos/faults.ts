// Which worker to kill next (pure, so the rule is tested without processes). The swarm gives up
// on a worker that exits 5 times within 60 s (RESTART_DEFAULTS in src/app/swarm.ts): a fault
// injector that ignored it would end the run by exhausting the supervisor's patience, which
// tests nothing. So a worker is killed at most `maxPerWindow` times within `windowMs`, and only
// once it has run `minUptimeMs` since its (re)start.

export interface KillCandidate {
  worker: number
  pid: number
  /** When its current process started (epoch ms). */
  since: number
}

export interface VictimRule {
  maxPerWindow: number
  windowMs: number
  minUptimeMs: number
}

export const VICTIM_RULE: Readonly<VictimRule> = Object.freeze({
  maxPerWindow: 3,
  windowMs: 60_000,
  minUptimeMs: 1_000,
})

/**
 * A random worker among those that may be killed now, or undefined when none may.
 * `kills`: earlier kills (worker and time); `random` returns a number in [0, 1).
 */
export function pickVictim(
  candidates: readonly KillCandidate[],
  kills: ReadonlyArray<{ worker: number; t: number }>,
  now: number,
  random: () => number,
  rule: VictimRule = VICTIM_RULE,
): KillCandidate | undefined {
  const eligible = candidates.filter(
    (c) =>
      now - c.since >= rule.minUptimeMs &&
      kills.filter((k) => k.worker === c.worker && now - k.t < rule.windowMs).length < rule.maxPerWindow,
  )
  if (eligible.length === 0) return undefined
  return eligible[Math.min(eligible.length - 1, Math.floor(random() * eligible.length))]
}

/** A seeded random number generator (mulberry32), so a run's choices can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
