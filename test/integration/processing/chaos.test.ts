// Member churn on a real broker, proven by counting: app processes join, leave gracefully, and
// are SIGKILLed while records are in flight. Every record is processed at least once, the group
// ends committed at the log end, and a record is processed twice only when a SIGKILLed process
// had started it: graceful revocations and shutdowns never cause a repeat.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type AppProcess, spawnApp } from '../../support/app-process.ts'
import { committedOffsets, createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'

const PARTITIONS = 6
const RECORDS = 6000
const CAPACITY = 30

test('join, graceful leave and SIGKILL mid-run: all processed, repeats only from killed processes', async (t) => {
  const topic = await createTopic('chaos', PARTITIONS)
  const group = uniqueName('chaos')
  await produceRecords(topic, RECORDS, { partitions: PARTITIONS })

  const apps = new Map<string, AppProcess>()
  const killed = new Set<string>()
  const start = (name: string) => apps.set(name, spawnApp(topic, group, CAPACITY))
  const processed = () => {
    const all = new Set<string>()
    for (const app of apps.values()) for (const id of app.processed) all.add(id)
    return all.size
  }
  const reach = (n: number, what: string) =>
    waitUntil(() => processed() >= n, { timeoutMs: 90_000, message: `${n} processed (${what})` })
  const sigkill = async (name: string) => {
    killed.add(name)
    apps.get(name)!.child.kill('SIGKILL')
    await apps.get(name)!.exited
  }
  const sigterm = async (name: string) => {
    apps.get(name)!.child.kill('SIGTERM')
    assert.equal(await apps.get(name)!.exited, null, `${name} shut down gracefully`)
  }

  try {
    for (const name of ['a', 'b', 'c']) start(name)
    await reach(1000, 'a, b, c')
    await sigkill('a')
    start('d')
    await reach(2500, 'after a was killed and d joined')
    await sigterm('b')
    start('e')
    await reach(4000, 'after b left and e joined')
    await sigkill('c')
    await reach(RECORDS, 'd and e, after c was killed')
    await waitUntil(
      async () => {
        const committed = await committedOffsets(group, topic, PARTITIONS)
        return [...committed.values()].every((c) => c.offset === RECORDS / PARTITIONS)
      },
      { timeoutMs: 30_000, message: 'the group committed at the log end' },
    )
    await Promise.all(['d', 'e'].map(sigterm))
  } finally {
    for (const app of apps.values())
      if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL')
  }

  // Who started each record; a record started in more than one process is a repeat.
  const startedBy = new Map<string, string[]>()
  for (const [name, app] of apps) {
    for (const id of app.started) startedBy.set(id, [...(startedBy.get(id) ?? []), name])
  }
  assert.equal(startedBy.size, RECORDS, 'every record was handled')
  const repeats = [...startedBy].filter(([, names]) => names.length > 1)
  const unexplained = repeats.filter(([, names]) => !names.some((n) => killed.has(n)))
  t.diagnostic(
    `records per process: ${[...apps].map(([n, a]) => `${n}=${a.processed.size}`).join(', ')}; ` +
      `repeats ${repeats.length} (all involving killed processes ${[...killed].join(', ')}: ${unexplained.length === 0})`,
  )
  assert.deepEqual(unexplained, [], 'no repeat without a SIGKILLed process among those that started it')
  // A killed process can cause at most what it had started and not yet committed: its capacity
  // plus what finished after its last commit (commits run every 100 ms).
  assert.ok(
    repeats.length <= killed.size * CAPACITY * 3,
    `${repeats.length} repeats stay within the killed processes' in-flight work`,
  )
})
