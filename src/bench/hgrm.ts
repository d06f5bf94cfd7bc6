/** Reads the HDR percentile distribution text (.hgrm) back into rows, and resamples it. */

export interface HgrmRow {
  value: number
  /** 0..1 */
  percentile: number
  totalCount: number
}

/** The rows of an .hgrm text (`Value Percentile TotalCount 1/(1-Percentile)`). */
export function parseHgrm(text: string): HgrmRow[] {
  const rows: HgrmRow[] = []
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/)
    if (parts.length < 3) continue
    const [value, percentile, count] = parts.map(Number)
    if (!Number.isFinite(value) || !Number.isFinite(percentile) || !Number.isFinite(count)) continue
    rows.push({ value: value as number, percentile: percentile as number, totalCount: count as number })
  }
  return rows
}

/**
 * The x axis HDR plots use: 1/(1−p) at a common grid of percentiles (0 %, then 20 steps per
 * decade of "nines" up to 99.9999 %), so distributions of different points share one axis.
 */
export function percentileGrid(): number[] {
  return Array.from({ length: 121 }, (_, k) => 1 - 10 ** (-k / 20))
}

/** The latency at each grid percentile (null beyond what the data can tell: 1 − 1/count). */
export function resample(rows: readonly HgrmRow[], grid: readonly number[]): Array<number | null> {
  if (rows.length === 0) return grid.map(() => null)
  const count = rows.at(-1)?.totalCount ?? 0
  const limit = count > 1 ? 1 - 1 / count : 0
  let i = 0
  return grid.map((p) => {
    if (p > limit && p > 0) return null
    while (i < rows.length - 1 && (rows[i] as HgrmRow).percentile < p) i++
    return Math.max(1, (rows[i] as HgrmRow).value)
  })
}
