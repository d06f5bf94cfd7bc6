// `multilane run --processes 3` with count 3: each worker consumes only its own
// segment group; a worker SIGKILLed mid-batch is restarted (same segment) and no record is lost;
// SIGTERM drains every worker and the run exits 0. Without segments, --processes N runs N
// ordinary members of the group.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeGroupMembers } from '../../../src/admin/segment-offsets/group-members.ts'
import { KafkaCluster } from '../../../src/kafka/cluster.ts'
import { resolveConnection } from '../../../src/kafka/connection-options.ts'
import { defaultSegmentReducer } from '../../../src/segments/reducers.ts'
import { bootstrapServers, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { spawnMultilane } from '../../support/launcher.ts'
import { appModule, cliEnv } from '../../support/segments.ts'

interface Handled {
  pid: number
  group: string
  at: string
}

function handledLines(stdout: string): Handled[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('P '))
    .map((l) => {
      const [, pid, group, at] = l.split(' ')
      return { pid: Number(pid), group: group!, at: at! }
    })
}

/** Worker number → pids it had, in order, from the swarm's "worker w (…) started (pid X)" lines. */
function workerPids(stderr: string): Map<number, number[]> {
  const out = new Map<number, number[]>()
  for (const m of stderr.matchAll(/worker (\d+) \(segments [\d,]+\) started \(pid (\d+)\)/g)) {
    out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), Number(m[2])])
  }
  return out
}

test('run --processes 3: one segment group per worker; a killed worker is restarted and nothing is lost', async () => {
  const topic = await createTopic('seg-swarm', 3)
  const group = uniqueName('seg-swarm')
  await produceRecords(topic, 300, { partitions: 3 }) // record i: partition i % 3, offset ⌊i/3⌋, key k(i % 100)
  const run = spawnMultilane(
    ['run', appModule, '--processes', '3'],
    cliEnv({ topic, group, count: 3, handlerDelayMs: 100 }),
  )
  let stdout = ''
  let stderr = ''
  run.child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  run.child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const distinct = () => new Set(handledLines(stdout).map((h) => h.at)).size
  try {
    await waitUntil(() => distinct() === 300, { timeoutMs: 60_000, message: 'the first 300 records handled' })
    const before = workerPids(stderr)
    assert.deepEqual([...before.keys()].sort(), [0, 1, 2])

    // Worker 1 is killed while it works through the second batch.
    await produceRecords(topic, 300, { partitions: 3 })
    const killed = before.get(1)![0]!
    await waitUntil(
      () =>
        handledLines(stdout).filter((h) => h.pid === killed && Number(h.at.split(':')[1]) >= 100).length >= 5,
      { message: 'worker 1 is handling the second batch' },
    )
    process.kill(killed, 'SIGKILL')
    await waitUntil(() => /worker 1 \(segments 1\) exited by SIGKILL; restarting in 500 ms/.test(stderr), {
      message: 'the swarm restarts worker 1',
    })
    await waitUntil(() => distinct() === 600, {
      timeoutMs: 90_000,
      message: `all 600 records handled:\n${stderr}`,
    })

    const pids = workerPids(stderr)
    assert.equal(pids.get(1)!.length, 2, 'worker 1 was started twice')
    const handled = handledLines(stdout)
    for (const [worker, list] of pids) {
      const groups = new Set(handled.filter((h) => list.includes(h.pid)).map((h) => h.group))
      assert.deepEqual(
        [...groups],
        [`${group}-parallel-${worker}`],
        `worker ${worker} consumed only its segment group`,
      )
    }
    for (const h of handled) {
      const [p, o] = h.at.split(':').map(Number) as [number, number]
      const key = `k${(3 * (o % 100) + p) % 100}`
      assert.equal(
        h.group,
        `${group}-parallel-${defaultSegmentReducer(key, 3)}`,
        `${h.at} by its own segment`,
      )
    }
    // Repeats only from the killed worker's uncommitted records.
    const counts = new Map<string, number>()
    for (const h of handled) counts.set(h.at, (counts.get(h.at) ?? 0) + 1)
    const repeated = [...counts].filter(([, n]) => n > 1).map(([at]) => at)
    const byKilled = new Set(handled.filter((h) => h.pid === killed).map((h) => h.at))
    for (const at of repeated) assert.ok(byKilled.has(at), `${at} repeated, but not by the killed worker`)
  } finally {
    run.child.kill('SIGTERM')
  }
  const result = await run.done
  assert.equal(result.code, 0, stderr)
  assert.equal(stderr.match(/drained and exited/g)?.length, 3, stderr)
})

test('run --processes 2 without segments: two ordinary members share the group', async () => {
  const topic = await createTopic('seg-swarm-plain', 4)
  const group = uniqueName('seg-swarm-plain')
  const run = spawnMultilane(['run', appModule, '--processes', '2'], cliEnv({ topic, group, count: 1 }))
  let stdout = ''
  let stderr = ''
  run.child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  run.child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const cluster = new KafkaCluster(
    resolveConnection({ bootstrap: bootstrapServers(), clientId: 'swarm-test' }),
  )
  try {
    await waitUntil(() => (stderr.match(/started \(pid/g)?.length ?? 0) === 2, {
      message: 'two workers started',
    })
    assert.match(stderr, /worker 0 started \(pid \d+\)/)
    await waitUntil(
      async () => {
        const g = await describeGroupMembers(cluster, group)
        return g.members === 2 && g.state === 'Stable'
      },
      { timeoutMs: 30_000, message: 'both workers are members, assignment settled' },
    )
    await produceRecords(topic, 400, { partitions: 4 })
    await waitUntil(() => new Set(handledLines(stdout).map((h) => h.at)).size === 400, {
      timeoutMs: 60_000,
      message: 'all records handled',
    })
    const handled = handledLines(stdout)
    assert.deepEqual(new Set(handled.map((h) => h.group)), new Set([group]))
    assert.equal(new Set(handled.map((h) => h.pid)).size, 2, 'both members took partitions')
    assert.equal(handled.length, 400, 'each record once')
  } finally {
    run.child.kill('SIGTERM')
    await cluster.close()
  }
  assert.equal((await run.done).code, 0, stderr)
})
