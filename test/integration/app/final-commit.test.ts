// A drain whose final commit fails is a failed stop: the records handled since the last commit
// will be delivered again, so `multilane run` exits non-zero (and names the commit failure), and
// a swarm does not call such a worker "drained". The broker's answer to the closing OffsetCommit
// is corrupted by a proxy in front of the real broker (a commit failure a broker will not give
// on demand).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { parseBootstrap } from '../../../src/kafka/bootstrap.ts'
import { FaultProxy } from '../../support/fault-proxy.ts'
import {
  bootstrapServers,
  createTopic,
  produceRecords,
  uniqueName,
  waitUntil,
  within,
} from '../../support/kafka.ts'
import { spawnMultilane } from '../../support/launcher.ts'
import { cliEnv, repo } from '../../support/segments.ts'

const OFFSET_COMMIT = 8
const fixture = join(repo, 'test/fixtures/open-handle-app.ts')
let proxy: FaultProxy

before(async () => {
  proxy = await FaultProxy.start(parseBootstrap(bootstrapServers())[0]!)
})

after(async () => {
  await proxy.close()
})

for (const processes of [[], ['--processes', '1']]) {
  test(`run${processes.map((a) => ` ${a}`).join('')}: the final commit fails at the drain → exit 1, the commit failure named`, async () => {
    const topic = await createTopic('final-commit', 1)
    await produceRecords(topic, 20, { partitions: 1 })
    const run = spawnMultilane(
      ['run', fixture, ...processes],
      cliEnv(undefined, {
        KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${proxy.port}`,
        OPEN_HANDLE_TOPIC: topic,
        OPEN_HANDLE_GROUP: uniqueName('final-commit'),
        // No periodic commit before the stop: the drain's commit is the one that counts.
        OPEN_HANDLE_COMMIT_INTERVAL_MS: '600000',
      }),
    )
    try {
      await waitUntil(
        () =>
          run
            .output()
            .split('\n')
            .filter((l) => l.startsWith('H ')).length >= 20,
        {
          timeoutMs: 90_000,
          message: `the app handles the records:\n${run.output()}`,
        },
      )
      // Every OffsetCommit answer from now on is cut short: the commit fails.
      proxy.inject({ apiKey: OFFSET_COMMIT, kind: 'truncate', count: 1000 })
      run.child.kill('SIGTERM')
      const result = await within(run.done, 90_000)
      assert.notEqual(result, 'timed out', `run did not exit:\n${run.output()}`)
      if (result === 'timed out') return
      assert.ok(
        proxy.injected.some((f) => f.apiKey === OFFSET_COMMIT),
        'the closing commit was sent',
      )
      assert.equal(result.code, 1, result.stderr)
      assert.match(result.stderr, /COMMIT_FAILED/)
      assert.doesNotMatch(result.stderr, /drained and exited/)
    } finally {
      proxy.clear()
      proxy.injected.length = 0
      if (run.child.exitCode === null) run.child.kill('SIGKILL')
    }
  })
}
