/**
 * The published figures of the seed study ("Client-local parallelism": Kafka 4.3.0, the Java
 * clients, 1,000 records/s, 1–5 s processing), to show beside measured ones. The study gives
 * some figures as numbers and others only in words; both are kept as the study states them.
 */
export interface SeedFigure {
  /** Throughput the study reports (records/s). */
  throughput: string
  /** End-to-end latency (processing start − publish) as the study states it. */
  endToEnd: string
  /** Numbers where the study gives them (ms), for ratios. */
  p50Ms?: number
  maxMs?: number
}

export const SEED_FIGURES: Record<'client-local-parallelism', Record<string, SeedFigure>> = {
  'client-local-parallelism': {
    'cg-blocking': {
      throughput: '1,000/s',
      endToEnd: 'p50 ≈ 7.5 s, max ≈ 10 s (twice the slowest processing time)',
      p50Ms: 7500,
      maxMs: 10_000,
    },
    'cg-continuous': {
      throughput: '1,000/s',
      endToEnd: '"very low" (milliseconds in the buffer); the clear winner',
    },
    'sg-blocking': {
      throughput: '1,000/s',
      endToEnd:
        'below cg-blocking, above an even fetch spread (the study says 277 ms; 1 ÷ 1.2 fetches/s per partition is 0.83 s): fetches cluster',
    },
    'sg-continuous': { throughput: '—', endToEnd: 'not in the study (the Java share consumer cannot do it)' },
    'cg-continuous-3seg': { throughput: '—', endToEnd: 'not in the study (multilane parallel segments)' },
  },
}

/** The seed's figure for a point, matched by name (a dimension suffix is ignored). */
export function seedFigure(seed: string | undefined, point: string): SeedFigure | undefined {
  if (seed !== 'client-local-parallelism') return undefined
  return SEED_FIGURES[seed][point.split(',')[0] ?? point]
}
