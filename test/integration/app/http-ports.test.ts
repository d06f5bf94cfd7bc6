// `multilane run --processes N --http-port P` needs P + 1 + w free for every worker w: a base
// port whose worker ports pass 65535 is refused at once naming the flag, and a worker port that
// another process holds ends the run naming the flag and the port, without restarting the worker
// (a restart cannot free a port someone else holds).
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { test } from 'node:test'
import { uniqueName, within } from '../../support/kafka.ts'
import { spawnMultilane } from '../../support/launcher.ts'
import { appModule, cliEnv } from '../../support/segments.ts'

/** Listens on a free port with the next two free as well; the server holds the first + 1. */
async function holdWorkerPort(): Promise<{ base: number; holder: Server }> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    const holder = createServer()
    const held = await new Promise<boolean>((resolve) => {
      holder.once('error', () => resolve(false))
      holder.listen(base + 1, () => resolve(true))
    })
    if (held) return { base, holder }
  }
}

async function ended(run: ReturnType<typeof spawnMultilane>, ms: number) {
  const result = await within(run.done, ms)
  if (result === 'timed out') {
    run.child.kill('SIGKILL')
    assert.fail(`run did not end within ${ms / 1000} s:\n${run.output()}`)
  }
  return result
}

test('run --processes 2 --http-port 65535: refused before any worker starts, naming the flag and the worker ports', async () => {
  const run = spawnMultilane(
    ['run', appModule, '--processes', '2', '--http-port', '65535'],
    cliEnv({ topic: uniqueName('http-ports'), group: uniqueName('http-ports'), count: 1 }),
  )
  const result = await ended(run, 60_000)
  assert.equal(result.code, 1, result.stderr)
  assert.match(result.stderr, /--http-port 65535/)
  assert.match(result.stderr, /65537/)
  assert.doesNotMatch(result.stderr, /started \(pid/)
})

test('run --processes 2 --http-port P with P + 1 held by another process: exit 1 naming the flag and the port, the worker not restarted', async () => {
  const { base, holder } = await holdWorkerPort()
  try {
    const run = spawnMultilane(
      ['run', appModule, '--processes', '2', '--http-port', String(base)],
      cliEnv({ topic: uniqueName('http-ports'), group: uniqueName('http-ports'), count: 1 }),
    )
    const result = await ended(run, 120_000)
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, new RegExp(`HTTP_PORT_IN_USE.*--http-port ${base}.*port ${base + 1}`))
    assert.doesNotMatch(result.stderr, /restarting in/)
  } finally {
    holder.close()
  }
})
