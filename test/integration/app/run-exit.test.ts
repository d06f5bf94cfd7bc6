// `multilane run` ends once the app has stopped, with the drain's status, even when the app
// module holds a handle open (a /metrics server, as in docs/processing.md); `app.onStop` hooks
// run after the drain to close such resources. With --processes, the supervisor does not run
// the app module's top-level code (only the workers do), and it exits when it gives up; its
// workers drain and run their onStop hooks when the supervisor is killed. An onStop hook that
// never settles is bounded by shutdownTimeoutMs.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createTopic, produceRecords, uniqueName, waitUntil, within } from '../../support/kafka.ts'
import { alive, type CliResult, spawnMultilane } from '../../support/launcher.ts'
import { cliEnv, repo } from '../../support/segments.ts'

const fixture = join(repo, 'test/fixtures/open-handle-app.ts')

async function runUntilHandled(args: string[], env: Record<string, string>, records: number) {
  const topic = await createTopic('run-exit', 1)
  await produceRecords(topic, records, { partitions: 1 })
  const run = spawnMultilane(
    ['run', fixture, ...args],
    cliEnv(undefined, { OPEN_HANDLE_TOPIC: topic, OPEN_HANDLE_GROUP: uniqueName('run-exit'), ...env }),
  )
  const handled = () =>
    run
      .output()
      .split('\n')
      .filter((l) => l.startsWith('H ')).length
  try {
    await waitUntil(() => handled() >= records, {
      timeoutMs: 90_000,
      message: `the app handles the records:\n${run.output()}`,
    })
  } catch (error) {
    run.child.kill('SIGKILL')
    throw error
  }
  return run
}

/** The run's result once it exits on its own; a run still alive after 60 s is killed and fails the test. */
async function exited(run: ReturnType<typeof spawnMultilane>): Promise<CliResult> {
  const result = await within(run.done, 60_000)
  if (result !== 'timed out') return result
  run.child.kill('SIGKILL')
  assert.fail(`run did not exit after the drain:\n${run.output()}`)
}

test('run: a module that keeps a server open still exits 0 after the SIGTERM drain', async () => {
  const run = await runUntilHandled([], {}, 3)
  run.child.kill('SIGTERM')
  const result = await exited(run)
  assert.equal(result.code, 0, result.stderr)
})

test('run: app.onStop hooks run after the drain (the module closes its server there)', async () => {
  const run = await runUntilHandled([], { OPEN_HANDLE_ON_STOP: '1' }, 3)
  run.child.kill('SIGTERM')
  const result = await exited(run)
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /^closed \d+$/m)
})

test('run --processes 2: only the workers import the app module, and the swarm exits 0 after the drain', async () => {
  const run = await runUntilHandled(['--processes', '2'], {}, 5)
  await waitUntil(() => (run.output().match(/^listening /gm) ?? []).length >= 2, {
    message: `both workers opened their server:\n${run.output()}`,
  })
  run.child.kill('SIGTERM')
  const result = await exited(run)
  assert.equal(result.code, 0, result.stderr)
  const listening = [...result.stdout.matchAll(/^listening (\d+)$/gm)].map((m) => Number(m[1]))
  assert.ok(
    !listening.includes(run.child.pid!),
    `the supervisor (pid ${run.child.pid}) ran the module's side effects`,
  )
  assert.equal(listening.length, 2, result.stdout)
  assert.equal(result.stderr.match(/drained and exited/g)?.length, 2, result.stderr)
})

test('run --processes 1: a swarm that gives up exits 1 although the app module holds a server open', async () => {
  const run = spawnMultilane(
    ['run', fixture, '--processes', '1'],
    cliEnv(undefined, { OPEN_HANDLE_FAIL: '1', OPEN_HANDLE_GROUP: uniqueName('run-exit-fail') }),
  )
  const result = await within(run.done, 120_000)
  if (result === 'timed out') run.child.kill('SIGKILL')
  assert.notEqual(result, 'timed out', `run did not exit after giving up:\n${run.output()}`)
  if (result === 'timed out') return
  assert.equal(result.code, 1, result.stderr)
  assert.match(result.stderr, /giving up/)
})

test('run: records still running at shutdownTimeoutMs are abandoned with a warning naming how many and where, and run exits 1', async () => {
  const run = await runUntilHandled(
    [],
    { OPEN_HANDLE_HANG: '1', OPEN_HANDLE_SHUTDOWN_TIMEOUT_MS: '1000', OPEN_HANDLE_LOG: '1' },
    1,
  )
  run.child.kill('SIGTERM')
  const result = await exited(run)
  assert.equal(result.code, 1, result.stderr)
  const warning = result.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; abandoned?: number; partitions?: string[] })
    .find((l) => l.abandoned !== undefined)
  assert.ok(warning, `a warning names the abandoned records:\n${result.stdout}`)
  assert.equal(warning.abandoned, 1)
  assert.equal(warning.partitions?.length, 1)
  assert.match(warning.partitions![0]!, /^run-exit.*#0$/)
  assert.match(result.stderr, /SHUTDOWN_TIMEOUT/)
})

test('run --processes 2 with groupInstanceId: each worker joins with its own instance id (<id>-<worker>), both get partitions', async () => {
  const topic = await createTopic('run-static', 2)
  const run = spawnMultilane(
    ['run', fixture, '--processes', '2'],
    cliEnv(undefined, {
      OPEN_HANDLE_TOPIC: topic,
      OPEN_HANDLE_GROUP: uniqueName('run-static'),
      OPEN_HANDLE_INSTANCE_ID: uniqueName('static'),
    }),
  )
  const assignedPids = () =>
    new Set([...run.output().matchAll(/^A (\d+) (\d+)$/gm)].filter((m) => Number(m[2]) > 0).map((m) => m[1]))
  try {
    await waitUntil(() => assignedPids().size === 2, {
      timeoutMs: 90_000,
      message: `both workers are assigned partitions:\n${run.output()}`,
    })
  } catch (error) {
    run.child.kill('SIGKILL')
    throw error
  }
  run.child.kill('SIGTERM')
  const result = await exited(run)
  assert.equal(result.code, 0, result.stderr)
  assert.doesNotMatch(result.stderr, /restarting/)
})

test('run: an onStop hook that never settles is given up at shutdownTimeoutMs, named in the log, and run exits 1', async () => {
  const run = await runUntilHandled(
    [],
    { OPEN_HANDLE_ON_STOP: 'hang', OPEN_HANDLE_SHUTDOWN_TIMEOUT_MS: '2000', OPEN_HANDLE_LOG: '1' },
    1,
  )
  run.child.kill('SIGTERM')
  const result = await exited(run)
  assert.equal(result.code, 1, result.stderr)
  assert.match(result.stdout, /onStop hook/)
  assert.match(result.stderr, /SHUTDOWN_TIMEOUT.*onStop/)
})

test('run --processes 2 with the supervisor SIGKILLed: each worker sees its channel close, drains, runs its onStop hooks and exits', async () => {
  const topic = await createTopic('run-orphan', 2)
  const run = spawnMultilane(
    ['run', fixture, '--processes', '2'],
    cliEnv(undefined, {
      OPEN_HANDLE_TOPIC: topic,
      OPEN_HANDLE_GROUP: uniqueName('run-orphan'),
      OPEN_HANDLE_ON_STOP: '1',
    }),
  )
  const workers = () => [...run.output().matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]))
  try {
    await waitUntil(() => (run.output().match(/^A \d+ [1-9]/gm) ?? []).length >= 2, {
      timeoutMs: 90_000,
      message: `both workers are assigned partitions:\n${run.output()}`,
    })
    run.child.kill('SIGKILL')
    await waitUntil(() => workers().every((pid) => run.output().includes(`closed ${pid}`)), {
      timeoutMs: 60_000,
      message: `both workers ran their onStop hooks:\n${run.output()}`,
    })
    await waitUntil(() => !workers().some(alive), { timeoutMs: 30_000, message: 'both workers exited' })
  } finally {
    for (const pid of workers()) if (alive(pid)) process.kill(pid, 'SIGKILL')
  }
})
