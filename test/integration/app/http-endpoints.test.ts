// `multilane run --http-port P` serves /metrics (Prometheus), /healthz (live: 200, else 503) and
// /readyz (ready: 200, else 503, with the reasons): not ready while a member has no partitions,
// ready once assigned; a taken port fails the run naming the flag; the server closes with the
// app. With --processes N, worker w serves on P + 1 + w and the supervisor aggregates on P.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { test } from 'node:test'
import { createAdmin, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { spawnMultilane } from '../../support/launcher.ts'
import { appModule, cliEnv } from '../../support/segments.ts'

/** A port nothing listens on now, with `extra` more free after it (for the workers). */
async function freePorts(extra = 0): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    const taken = await Promise.all(
      Array.from({ length: extra + 1 }, (_, i) => listening(base + i).then((busy) => busy)),
    )
    if (!taken.some(Boolean)) return base
  }
}

/** True when `port` is taken (cannot listen on it). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(true))
    probe.listen(port, () => probe.close(() => resolve(false)))
  })
}

async function get(port: number, path: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) })
    return { status: response.status, body: await response.text() }
  } catch {
    return undefined
  }
}

test('run --http-port: /readyz 503 with the reason until partitions are assigned, then 200; /healthz, /metrics; a taken port names the flag; the server closes with the app', async () => {
  const topic = uniqueName('http-ready')
  const group = uniqueName('http-ready')
  const port = await freePorts()
  // The topic does not exist yet: the member joins with nothing to consume.
  const run = spawnMultilane(
    ['run', appModule, '--http-port', String(port)],
    cliEnv({ topic, group, count: 1 }),
  )
  try {
    let last: { status: number; body: string } | undefined
    await waitUntil(
      async () => {
        last = await get(port, '/readyz')
        return last?.status === 503 && /no partitions assigned/.test(last.body)
      },
      { timeoutMs: 60_000, message: `/readyz 503 naming the missing assignment (last: ${last?.body})` },
    )
    const notReady = JSON.parse(last!.body) as { live: boolean; ready: boolean; reasons: string[] }
    assert.equal(notReady.ready, false)
    assert.equal(notReady.live, true)
    assert.ok(notReady.reasons.includes(`consumerGroup "${group}": no partitions assigned`), last!.body)
    assert.equal((await get(port, '/healthz'))?.status, 200)

    const admin = createAdmin()
    try {
      await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 })
    } finally {
      await admin.close()
    }
    await produceRecords(topic, 20, { partitions: 1 })
    await waitUntil(async () => (await get(port, '/readyz'))?.status === 200, {
      timeoutMs: 60_000,
      message: '/readyz 200 once assigned',
    })
    const ready = JSON.parse((await get(port, '/readyz'))!.body) as {
      ready: boolean
      reasons: string[]
      groups: Array<{ group: string; partitions: number }>
    }
    assert.deepEqual(ready.reasons, [])
    assert.deepEqual(
      ready.groups.map((g) => [g.group, g.partitions]),
      [[group, 1]],
    )
    await waitUntil(
      async () =>
        new RegExp(
          `multilane_records_consumed_total\\{consumer_group="${group}",topic="${topic}",partition="0"\\} 20`,
        ).test((await get(port, '/metrics'))?.body ?? ''),
      { message: '/metrics counts the 20 records' },
    )
    assert.equal((await get(port, '/nope'))?.status, 404)

    // A second run on the same port stops at once, naming the flag.
    const second = spawnMultilane(
      ['run', appModule, '--http-port', String(port)],
      cliEnv({ topic, group, count: 1 }),
    )
    const refused = await second.done
    assert.equal(refused.code, 1, refused.stderr)
    assert.match(
      refused.stderr,
      new RegExp(`\\[HTTP_PORT_IN_USE\\] --http-port ${port}: port ${port} is in use`),
    )
  } finally {
    run.child.kill('SIGTERM')
  }
  const result = await run.done
  assert.equal(result.code, 0, result.stderr)
  assert.equal(await listening(port), false, 'the port is free once the run ended')
})

test('run --processes 2 --http-port P: workers serve on P+1 and P+2, the supervisor aggregates on P', async () => {
  const admin = createAdmin()
  const topic = uniqueName('http-swarm')
  try {
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 })
  } finally {
    await admin.close()
  }
  const group = uniqueName('http-swarm')
  const port = await freePorts(2)
  await produceRecords(topic, 40, { partitions: 2 })
  const run = spawnMultilane(
    ['run', appModule, '--processes', '2', '--http-port', String(port)],
    cliEnv({ topic, group, count: 1 }),
  )
  try {
    await waitUntil(async () => (await get(port, '/readyz'))?.status === 200, {
      timeoutMs: 90_000,
      message: 'the supervisor reports both workers ready',
    })
    const report = JSON.parse((await get(port, '/readyz'))!.body) as {
      workers: Array<{ worker: number; port: number; ready: boolean }>
    }
    assert.deepEqual(
      report.workers.map((w) => [w.worker, w.port, w.ready]),
      [
        [0, port + 1, true],
        [1, port + 2, true],
      ],
    )
    assert.equal((await get(port, '/healthz'))?.status, 200)
    for (const worker of [1, 2]) assert.equal((await get(port + worker, '/healthz'))?.status, 200)
    await waitUntil(
      async () => {
        const metrics = (await get(port, '/metrics'))?.body ?? ''
        return (
          /multilane_assigned_partitions\{worker="0",/.test(metrics) &&
          /multilane_assigned_partitions\{worker="1",/.test(metrics)
        )
      },
      { message: "/metrics has both workers' samples" },
    )
    const metrics = (await get(port, '/metrics'))!.body
    assert.equal(metrics.match(/^# TYPE multilane_assigned_partitions /gm)?.length, 1, metrics)
  } finally {
    run.child.kill('SIGTERM')
  }
  const result = await run.done
  assert.equal(result.code, 0, result.stderr)
  for (const p of [port, port + 1, port + 2]) assert.equal(await listening(p), false, `port ${p} is free`)
})
