/** Random draws of a workload: which key a record gets, and how long its processing takes. */
import type { KeyDistribution, ProcessingTime } from './workload-schema.ts'

/** Returns key numbers in [0, count) following the distribution. */
export function keySampler(count: number, distribution: KeyDistribution, random = Math.random): () => number {
  if (distribution === 'uniform') return () => Math.floor(random() * count)
  if ('hotKey' in distribution) {
    const { share } = distribution.hotKey
    // Key 0 is the hot key; the rest share what is left evenly.
    return () => (random() < share || count === 1 ? 0 : 1 + Math.floor(random() * (count - 1)))
  }
  // Zipf: P(k) ∝ 1/(k+1)^s, sampled by binary search in the cumulative weights.
  const { s } = distribution.zipf
  const cumulative = new Float64Array(count)
  let sum = 0
  for (let k = 0; k < count; k++) {
    sum += 1 / (k + 1) ** s
    cumulative[k] = sum
  }
  return () => {
    const target = random() * sum
    let lo = 0
    let hi = count - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((cumulative[mid] as number) < target) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** The z-score of the 99th percentile of a standard normal distribution. */
const Z99 = 2.3263478740408408

/** Returns processing times in ms following the distribution. */
export function processingTimeSampler(time: ProcessingTime, random = Math.random): () => number {
  if ('fixed' in time) return () => time.fixed
  if ('uniform' in time) {
    const { min, max } = time.uniform
    return () => min + random() * (max - min)
  }
  // Lognormal given by its median (e^μ) and 99th percentile (e^(μ + z99·σ)).
  const mu = Math.log(time.lognormal.median)
  const sigma = (Math.log(time.lognormal.p99) - mu) / Z99
  return () => {
    // Box–Muller; 1 − u keeps the logarithm finite.
    const u = 1 - random()
    const v = random()
    return Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v))
  }
}

/** The mean of a processing time distribution (ms): the study's capacity arithmetic uses it. */
export function meanProcessingMs(time: ProcessingTime): number {
  if ('fixed' in time) return time.fixed
  if ('uniform' in time) return (time.uniform.min + time.uniform.max) / 2
  const mu = Math.log(time.lognormal.median)
  const sigma = (Math.log(time.lognormal.p99) - mu) / Z99
  return Math.exp(mu + (sigma * sigma) / 2)
}

/** Spends `ms` as a sleep, or as CPU in slices of ≤ 5 ms that yield to the event loop between. */
export async function spend(ms: number, as: 'sleep' | 'busy', signal?: AbortSignal): Promise<void> {
  if (as === 'sleep') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer)
          resolve()
        },
        { once: true },
      )
    })
    return
  }
  const end = performance.now() + ms
  while (performance.now() < end && !signal?.aborted) {
    const slice = Math.min(end, performance.now() + 5)
    while (performance.now() < slice) {
      // busy: the point of this workload is to use the CPU
    }
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
}
