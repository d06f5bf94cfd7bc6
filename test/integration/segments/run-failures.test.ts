// `multilane run`: one process with --segments runs only those segment groups and drains on
// SIGTERM (exit 0); a swarm whose worker keeps failing gives up with exit code 1 (5 failures
// within 60 s, restarts after 0.5, 1, 2 and 4 s); a routing mismatch is fatal: not retried,
// said once, exit 1.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createTopic, produceRecords, uniqueName, waitUntil, within } from '../../support/kafka.ts'
import { spawnMultilane } from '../../support/launcher.ts'
import { appModule, cliEnv, repo } from '../../support/segments.ts'

test('run --segments 0,2 (one process): only those segment groups; SIGTERM drains, exit 0', async () => {
  const topic = await createTopic('seg-run-placed', 2)
  const group = uniqueName('seg-run-placed')
  await produceRecords(topic, 200, { partitions: 2 })
  const run = spawnMultilane(['run', appModule, '--segments', '0,2'], cliEnv({ topic, group, count: 3 }))
  let stdout = ''
  run.child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  const groups = () =>
    new Set(
      stdout
        .split('\n')
        .filter((l) => l.startsWith('P '))
        .map((l) => l.split(' ')[2]),
    )
  try {
    await waitUntil(() => groups().size === 2, { message: 'segments 0 and 2 handle records' })
    // Let them finish what they have (200 records at most): none may come from segment 1.
    await waitUntil(() => stdout.split('\n').filter((l) => l.startsWith('P ')).length > 50, {
      message: 'records handled',
    })
  } finally {
    run.child.kill('SIGTERM')
  }
  const result = await run.done
  assert.equal(result.code, 0, result.stderr)
  assert.deepEqual(groups(), new Set([`${group}-parallel-0`, `${group}-parallel-2`]))
})

test('a worker that keeps failing: restarted with backoff, then the swarm gives up with exit code 1', async () => {
  const run = spawnMultilane(
    ['run', join(repo, 'test/fixtures/segments/failing-app.ts'), '--processes', '1'],
    cliEnv(),
  )
  const result = await run.done
  assert.equal(result.code, 1, result.stderr)
  for (const delay of [500, 1000, 2000, 4000]) {
    assert.match(result.stderr, new RegExp(`worker 0 exited with code 1; restarting in ${delay} ms`))
  }
  assert.match(result.stderr, /multilane worker 0: \[DEAD_LETTER_TOPIC_MISSING\]/)
  assert.match(
    result.stderr,
    /worker 0 exited with code 1: it failed 5 times within 60 s; stopping the other workers and giving up/,
  )
  assert.equal(result.stderr.match(/worker 0 started/g)?.length, 5)
})

test('run --processes 3 after the segment count changed: the routing mismatch is fatal, said once, not retried; exit 1', async () => {
  const topic = await createTopic('seg-run-mismatch', 2)
  const group = uniqueName('seg-run-mismatch')
  await produceRecords(topic, 60, { partitions: 2 })
  // Count 3 runs and commits (with its routing fingerprint) at the drain.
  const first = spawnMultilane(['run', appModule], cliEnv({ topic, group, count: 3 }))
  try {
    await waitUntil(
      () =>
        first
          .output()
          .split('\n')
          .filter((l) => l.startsWith('P ')).length >= 60,
      {
        timeoutMs: 90_000,
        message: 'count 3 handles every record',
      },
    )
  } finally {
    first.child.kill('SIGTERM')
  }
  assert.equal((await first.done).code, 0)
  // Count 4: segments 0-2 find commits made with another routing.
  const run = spawnMultilane(['run', appModule, '--processes', '3'], cliEnv({ topic, group, count: 4 }))
  const result = await within(run.done, 120_000)
  if (result === 'timed out') run.child.kill('SIGKILL')
  assert.notEqual(result, 'timed out', `run did not exit:\n${run.output()}`)
  if (result === 'timed out') return
  assert.equal(result.code, 1, result.stderr)
  assert.match(result.stderr, /\[ASSIGNMENT_REFUSED\].*routing fingerprint/)
  assert.equal(result.stderr.match(/no restart can fix/g)?.length, 1, result.stderr)
  assert.doesNotMatch(result.stderr, /restarting in/)
})
