import { setImmediate as nextTurn } from 'node:timers/promises'

/**
 * An assignment computed in steps: the generator yields between units of work (a partition
 * placed, a member's partitions moved) and returns the result. A large group's cooperative-sticky
 * assignment takes 100–200 ms of CPU (10,000 partitions over 200 members); run in one go on the
 * leader it would hold every timer of the process — heartbeats, lock renewals, commit ticks.
 */
export type AssignmentSteps<T> = Generator<void, T, void>

/** Synchronous work between two turns of the event loop, at most about this long. */
const SLICE_MS = 4

/** Runs every step at once (tests, and callers with no event loop to share). */
export function runToEnd<T>(steps: AssignmentSteps<T>): T {
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
  }
}

/** Runs the steps in slices of about {@link SLICE_MS}, letting timers and I/O run in between. */
export async function runSliced<T>(steps: AssignmentSteps<T>, sliceMs: number = SLICE_MS): Promise<T> {
  let start = performance.now()
  for (let n = 1; ; n++) {
    const step = steps.next()
    if (step.done) return step.value
    // The clock is read every 32 steps: a step is microseconds.
    if ((n & 31) === 0 && performance.now() - start >= sliceMs) {
      await nextTurn()
      start = performance.now()
    }
  }
}
