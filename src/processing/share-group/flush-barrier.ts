import type { AckResult } from '../../engine/share/types.ts'

/**
 * A flush's wait for the final acknowledgements of one partition sent before it (those numbered
 * up to `upTo`): counted down as they are answered, whatever the order, collecting the ones
 * not applied. Counting instead of keeping each acknowledgement's promise lets the common path
 * (no flush waiting) cost nothing per record.
 */
export class FlushBarrier {
  readonly done: Promise<AckResult[]>
  readonly #upTo: number
  #remaining: number
  readonly #refused: AckResult[] = []
  #resolve!: (refused: AckResult[]) => void

  /** `remaining`: how many of those numbered up to `upTo` are not answered yet. */
  constructor(upTo: number, remaining: number) {
    this.#upTo = upTo
    this.#remaining = remaining
    this.done = new Promise((resolve) => {
      this.#resolve = resolve
    })
  }

  /** One final acknowledgement (number `seq`) was answered; true once all awaited were. */
  answered(seq: number, result: AckResult): boolean {
    if (seq > this.#upTo) return false
    if (result.outcome !== 'ok') this.#refused.push(result)
    if (--this.#remaining > 0) return false
    this.#resolve(this.#refused)
    return true
  }
}
