/**
 * A level-triggered wake-up: `wait()` resolves at the next `notify()` (or at once if one
 * happened since the last wait). Loops use it to sleep until there is work.
 */
export class WakeSignal {
  #pending = false
  #waiters: Array<() => void> = []

  notify(): void {
    if (this.#waiters.length === 0) {
      this.#pending = true
      return
    }
    const waiters = this.#waiters
    this.#waiters = []
    for (const resolve of waiters) resolve()
  }

  /** Resolves on the next notify, or after `timeoutMs` when given. */
  wait(timeoutMs?: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const done = () => {
        if (timer) clearTimeout(timer)
        resolve()
      }
      this.#waiters.push(done)
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== done)
          resolve()
        }, timeoutMs)
      }
    })
  }
}
