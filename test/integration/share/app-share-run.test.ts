// `multilane run <app> --processes N` with a share group: every worker is a member of
// the share group, the records of one partition are spread over them, a worker SIGKILLed
// mid-run is restarted and its records come back (none lost), SIGTERM drains every worker.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { describeShareGroup } from '../../../src/admin/share.ts'
import { bootstrapServers, createTopic, produceRecords, waitUntil } from '../../support/kafka.ts'
import { spawnMultilane } from '../../support/launcher.ts'
import { kafkaOptions, shareGroup } from '../../support/share.ts'

const appModule = join(import.meta.dirname, '../../fixtures/share-run-app.ts')

interface Handled {
  pid: number
  offset: number
  deliveryCount: number
}

function handledLines(stdout: string): Handled[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('S '))
    .map((l) => {
      const [, pid, offset, deliveryCount] = l.split(' ')
      return { pid: Number(pid), offset: Number(offset), deliveryCount: Number(deliveryCount) }
    })
}

function env(vars: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrapServers().join(','), ...vars }
}

/** Members of the share group; 0 until the first one joined (the group does not exist before). */
async function members(group: string): Promise<number> {
  try {
    return (await describeShareGroup(kafkaOptions(), group)).members.length
  } catch (error) {
    if ((error as { code?: string }).code === 'GROUP_NOT_FOUND') return 0
    throw error
  }
}

test('run --processes 3: three share members on one partition; a killed worker is restarted, nothing is lost', async () => {
  const topic = await createTopic('share-run', 1)
  const group = await shareGroup('share-run')
  const run = spawnMultilane(
    ['run', appModule, '--processes', '3'],
    env({ SHARE_TOPIC: topic, SHARE_GROUP: group, SHARE_HANDLER_DELAY_MS: '20' }),
  )
  let stdout = ''
  let stderr = ''
  run.child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  run.child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const distinct = () => new Set(handledLines(stdout).map((h) => h.offset)).size
  try {
    await waitUntil(async () => (await members(group)) === 3, {
      timeoutMs: 60_000,
      message: 'three workers are members of the share group',
    })
    await produceRecords(topic, 600, { partitions: 1, batchSize: 20 })
    await waitUntil(() => distinct() >= 200, { timeoutMs: 60_000, message: 'records are being handled' })
    const pids = [...new Set(handledLines(stdout).map((h) => h.pid))]
    const killed = pids[0]!
    process.kill(killed, 'SIGKILL')
    await waitUntil(() => /exited by SIGKILL; restarting/.test(stderr), {
      message: 'the swarm restarts the worker',
    })
    await waitUntil(() => distinct() === 600, {
      timeoutMs: 90_000,
      message: `all 600 records handled:\n${stderr}`,
    })
    await waitUntil(
      async () => {
        const d = await describeShareGroup(kafkaOptions(), group)
        return d.partitions[0]?.lag === 0
      },
      { timeoutMs: 30_000, message: 'share-partition lag 0' },
    )
    // The restarted worker is assigned before the run is stopped: a worker stopped while it
    // still loads is killed by the signal, which the swarm counts as a failure. (The killed
    // member stays in the group's member list until its session times out.)
    const restarted = Number(/worker \d+ started \(pid (\d+)\)\n(?![\s\S]*started \(pid)/.exec(stderr)?.[1])
    await waitUntil(() => stdout.includes(`R ${restarted}\n`), {
      timeoutMs: 60_000,
      message: `the restarted worker (pid ${restarted}) is assigned`,
    })
    const handled = handledLines(stdout)
    assert.ok(new Set(handled.map((h) => h.pid)).size >= 3, 'the records were spread over the workers')
    // Repeats only of what the killed worker held.
    const counts = new Map<number, number>()
    for (const h of handled) counts.set(h.offset, (counts.get(h.offset) ?? 0) + 1)
    for (const [offset, n] of counts) {
      if (n === 1) continue
      assert.ok(
        handled.some((h) => h.offset === offset && h.pid === killed),
        `offset ${offset} handled ${n} times, not by the killed worker`,
      )
    }
  } finally {
    run.child.kill('SIGTERM')
  }
  const result = await run.done
  assert.equal(result.code, 0, stderr)
  assert.equal(stderr.match(/drained and exited/g)?.length, 3, stderr)
})

test('run --processes 4 with segments (count 2) and a share group: every worker runs a share member', async () => {
  const topic = await createTopic('share-run-mixed', 1)
  const group = await shareGroup('share-run-mixed')
  const run = spawnMultilane(
    ['run', appModule, '--processes', '4'],
    env({ SHARE_TOPIC: topic, SHARE_GROUP: group, SHARE_SEGMENTED_GROUP: `${group}-segmented` }),
  )
  try {
    await waitUntil(async () => (await members(group)) === 4, {
      timeoutMs: 60_000,
      message: 'four share members',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; ${run.output()}`)
    })
  } finally {
    run.child.kill('SIGTERM')
  }
  assert.equal((await run.done).code, 0, run.output())
})
