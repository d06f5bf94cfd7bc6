/**
 * What one test point measures: latency histograms (records published inside the measurement
 * window only), per-second produced/done counts and lag samples, and which records were handled
 * (to prove none was lost).
 */
import hdr from 'hdr-histogram-js'

export type Histogram = ReturnType<typeof hdr.build>

/** One second of a point's timeline (t: seconds since production started). */
export interface TimelineSample {
  t: number
  produced: number
  done: number
  /** Records not yet done, as the broker sees it (null when the sample failed). */
  lag: number | null
}

// Flags per record (by sequence number).
const PRODUCED = 1
const STARTED = 2
const DONE = 4

function histogram(): Histogram {
  // 1 ms to 1 h, 3 significant digits.
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
  })
}

export class PointRecorder {
  /** Processing start − publish time. */
  readonly endToEnd: Histogram = histogram()
  /** Done − publish time. */
  readonly publishToDone: Histogram = histogram()
  readonly #warmupMs: number
  readonly #measureMs: number
  #t0 = Number.POSITIVE_INFINITY
  #windowStart = Number.POSITIVE_INFINITY
  #windowEnd = Number.POSITIVE_INFINITY
  #state = new Uint8Array(1 << 16)
  #produced = 0
  #done = 0
  #duplicates = 0
  #failures = 0
  readonly #producedPerSecond: number[] = []
  readonly #donePerSecond: number[] = []
  readonly #lag: Array<number | null> = []

  constructor(warmupMs: number, measureMs: number) {
    this.#warmupMs = warmupMs
    this.#measureMs = measureMs
  }

  /** `t0`: when production starts (epoch ms); the window is [t0 + warm-up, + measurement). */
  begin(t0: number): void {
    this.#t0 = t0
    this.#windowStart = t0 + this.#warmupMs
    this.#windowEnd = t0 + this.#warmupMs + this.#measureMs
  }

  get t0(): number {
    return this.#t0
  }

  get windowStart(): number {
    return this.#windowStart
  }

  get windowEnd(): number {
    return this.#windowEnd
  }

  /** Ends the measurement window early (an interrupted point). */
  endWindowAt(time: number): void {
    this.#windowEnd = Math.max(this.#windowStart, Math.min(this.#windowEnd, time))
  }

  /** The broker acknowledged record `seq`; it counts in the second it was published in. */
  produced(seq: number, publishedAt: number): void {
    this.#produced++
    this.#count(this.#producedPerSecond, publishedAt)
    this.#ensure(seq)
    this.#state[seq] = (this.#state[seq] as number) | PRODUCED
  }

  // A handler may see a record before the producer has its acknowledgement.
  #ensure(seq: number): void {
    if (seq < this.#state.length) return
    const grown = new Uint8Array(Math.max(seq + 1, this.#state.length * 2))
    grown.set(this.#state)
    this.#state = grown
  }

  /** A handler started on record `seq` (published at `publishedAt`): the first start counts. */
  started(seq: number, publishedAt: number, now: number): void {
    this.#ensure(seq)
    const state = this.#state[seq] as number
    if (state & STARTED) return
    this.#state[seq] = state | STARTED
    if (this.#inWindow(publishedAt)) this.endToEnd.recordValue(Math.max(1, now - publishedAt))
  }

  failed(): void {
    this.#failures++
  }

  done(seq: number, publishedAt: number, now: number): void {
    this.#ensure(seq)
    const state = this.#state[seq] as number
    if (state & DONE) {
      this.#duplicates++
      return
    }
    this.#state[seq] = state | DONE
    this.#done++
    this.#count(this.#donePerSecond, now)
    if (this.#inWindow(publishedAt)) this.publishToDone.recordValue(Math.max(1, now - publishedAt))
  }

  lag(at: number, value: number | null): void {
    const second = Math.floor((at - this.#t0) / 1000)
    if (second >= 0) this.#lag[second] = value
  }

  get producedCount(): number {
    return this.#produced
  }

  get doneCount(): number {
    return this.#done
  }

  get duplicates(): number {
    return this.#duplicates
  }

  get failures(): number {
    return this.#failures
  }

  /** Records produced (acknowledged by the broker) that no handler finished. */
  lost(): number {
    let lost = 0
    for (const state of this.#state) if (state & PRODUCED && !(state & DONE)) lost++
    return lost
  }

  /** Every acknowledged record is done (a record whose send failed may be done or not). */
  drained(): boolean {
    return this.#done >= this.#produced && this.lost() === 0
  }

  /** Produced and done records/s inside the window. */
  rates(): { produced: number; done: number; seconds: number } {
    const from = Math.floor((this.#windowStart - this.#t0) / 1000)
    const to = Math.floor((this.#windowEnd - this.#t0) / 1000)
    const seconds = Math.max(1, to - from)
    const sum = (a: number[]) => a.slice(from, to).reduce((s, v) => s + (v ?? 0), 0)
    return {
      produced: sum(this.#producedPerSecond) / seconds,
      done: sum(this.#donePerSecond) / seconds,
      seconds,
    }
  }

  /** Lag samples inside the window. */
  lagStats(): { max: number | null; mean: number | null; end: number | null } {
    const from = Math.floor((this.#windowStart - this.#t0) / 1000)
    const to = Math.floor((this.#windowEnd - this.#t0) / 1000)
    const values = this.#lag.slice(from, to).filter((v): v is number => typeof v === 'number')
    if (values.length === 0) return { max: null, mean: null, end: null }
    return {
      max: Math.max(...values),
      mean: Math.round(values.reduce((s, v) => s + v, 0) / values.length),
      end: values.at(-1) ?? null,
    }
  }

  timeline(): TimelineSample[] {
    const seconds = Math.max(this.#producedPerSecond.length, this.#donePerSecond.length, this.#lag.length)
    return Array.from({ length: seconds }, (_, t) => ({
      t,
      produced: this.#producedPerSecond[t] ?? 0,
      done: this.#donePerSecond[t] ?? 0,
      lag: this.#lag[t] ?? null,
    }))
  }

  #inWindow(publishedAt: number): boolean {
    return publishedAt >= this.#windowStart && publishedAt < this.#windowEnd
  }

  #count(perSecond: number[], at: number): void {
    const second = Math.max(0, Math.floor((at - this.#t0) / 1000))
    perSecond[second] = (perSecond[second] ?? 0) + 1
  }
}
