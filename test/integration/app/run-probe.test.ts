// `multilane run --processes` reads the app's shape in a short-lived child process: that child
// never outlives the supervisor, even when the app module's import never finishes (a top-level
// await on something that never comes) while it holds a server open.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { uniqueName, waitUntil, within } from '../../support/kafka.ts'
import { alive, spawnMultilane } from '../../support/launcher.ts'
import { cliEnv, repo } from '../../support/segments.ts'

const fixture = join(repo, 'test/fixtures/open-handle-app.ts')

test('run --processes 2: the probe child of an import that never finishes ends with the supervisor stopped by SIGTERM', async () => {
  const run = spawnMultilane(
    ['run', fixture, '--processes', '2'],
    cliEnv(undefined, { OPEN_HANDLE_IMPORT_HANG: '1', OPEN_HANDLE_GROUP: uniqueName('run-probe') }),
  )
  const exit = new Promise<void>((resolve) => run.child.once('exit', () => resolve()))
  let probe: number | undefined
  try {
    await waitUntil(
      () => {
        const m = /^listening (\d+)$/m.exec(run.output())
        probe = m ? Number(m[1]) : undefined
        return probe !== undefined
      },
      { timeoutMs: 60_000, message: `the probe child imports the module:\n${run.output()}` },
    )
    run.child.kill('SIGTERM')
    assert.notEqual(await within(exit, 30_000), 'timed out', `run did not end on SIGTERM:\n${run.output()}`)
    await waitUntil(() => !alive(probe!), {
      timeoutMs: 30_000,
      message: `the probe child (pid ${probe}) is still running after the supervisor ended`,
    })
  } finally {
    run.child.kill('SIGKILL')
    if (probe !== undefined && alive(probe)) process.kill(probe, 'SIGKILL')
  }
})
