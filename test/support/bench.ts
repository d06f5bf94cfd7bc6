// A tiny bench run on the test cluster: two points of a few seconds at a low rate, into a
// temporary directory. Used by the bench run and report tests.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BenchRun, parseWorkload, type RunBenchOptions, runBench } from '../../src/bench/index.ts'
import { BOOTSTRAP_ENV } from '../../src/kafka/bootstrap.ts'

export const TINY_WORKLOAD = `name: tiny
description: two short points at a low rate
topic: { partitions: 2, headers: [user_id], keys: { count: 50, distribution: { zipf: { s: 1.1 } } } }
producer: { rate: 40, warmupSeconds: 1, measureSeconds: 3, drainTimeoutSeconds: 120 }
consumers:
  group: consumer
  members: 2
  style: continuous
  capacity: 10
  ordering: unordered
  processing: { time: { uniform: { min: 1, max: 20 } }, failureShare: 0.05 }
points:
  - name: cg-segments
    consumers: { segments: 2 }
  - name: sg-blocking
    consumers: { group: share, style: blocking, maxPollRecords: 10, acquireMode: record_limit, retries: redeliver }
`

/** `set`: field overrides for every point (as `bench run --set`). */
export async function runTinyBench(
  options: Omit<RunBenchOptions, 'out' | 'bootstrap'> = {},
  set: Record<string, unknown> = {},
): Promise<BenchRun> {
  const bootstrap = process.env[BOOTSTRAP_ENV]
  if (!bootstrap)
    throw new Error(`${BOOTSTRAP_ENV} is not set: run with --test-global-setup=test/global-setup.ts`)
  const out = join(mkdtempSync(join(tmpdir(), 'multilane-bench-')), 'result')
  return runBench(parseWorkload(TINY_WORKLOAD, 'tiny.yaml', set), { ...options, out, bootstrap })
}
