// Every workload shipped in examples/workloads/ loads and validates through the loader
// `multilane bench run` uses, and says what it shows: a schema change that breaks a shipped
// workload fails here, not in a user's first run.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadWorkload } from '../../../src/bench/workload.ts'

const DIR = fileURLToPath(new URL('../../../examples/workloads/', import.meta.url))
const files = readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()

test('examples/workloads/ holds the shipped workloads', () => {
  for (const expected of [
    'client-local-parallelism.yaml',
    'client-local-parallelism-demo.yaml',
    'raw-throughput.yaml',
    'segments-hot-key.yaml',
    'share-long-processing.yaml',
    'failures-retries-dlq.yaml',
  ]) {
    assert.ok(files.includes(expected), `${expected} is missing from examples/workloads/`)
  }
})

for (const file of files) {
  test(`${file} is a valid workload with a name, a description and at least one point`, () => {
    const workload = loadWorkload(join(DIR, file))
    assert.equal(workload.name, file.replace(/\.ya?ml$/, ''), `${file}: name should match the file name`)
    assert.ok(workload.description.trim().length > 0, `${file}: description is empty`)
    assert.ok(workload.points.length > 0, `${file}: no points`)
  })
}
