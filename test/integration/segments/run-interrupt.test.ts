// `multilane run --processes N` interrupted from a terminal: Ctrl-C sends SIGINT to the whole
// foreground process group — the swarm and, unless they have their own group, its workers. A
// worker must still get one stop request, not two (a second signal means "exit at once,
// without draining"). Stopped cgroup-wide (systemd's default KillMode), run and each worker get a
// SIGTERM at once: still one stop request per worker.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { createTopic, produceRecords, uniqueName, waitUntil } from '../../support/kafka.ts'
import { appModule, bin, cliEnv } from '../../support/segments.ts'

test('run --processes 2, Ctrl-C (SIGINT to the process group): every worker drains, exit 0', async () => {
  const topic = await createTopic('seg-run-ctrl-c', 2)
  const group = uniqueName('seg-run-ctrl-c')
  await produceRecords(topic, 200, { partitions: 2 })
  // Its own process group, as a shell gives a foreground job.
  const child = spawn(process.execPath, [bin, 'run', appModule, '--processes', '2'], {
    env: cliEnv({ topic, group, count: 2, handlerDelayMs: 200 }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  try {
    // Both workers are running handlers (each record takes 200 ms).
    await waitUntil(
      () =>
        new Set(
          stdout
            .split('\n')
            .filter((l) => l.startsWith('P '))
            .map((l) => l.split(' ')[1]),
        ).size === 2,
      { timeoutMs: 60_000, message: `both workers handle records:\n${stderr}` },
    )
    // Stopped, every process of the group gets the signal as one pending SIGINT when it resumes
    // (a terminal's Ctrl-C reaches them all at once the same way).
    process.kill(-child.pid!, 'SIGSTOP')
    process.kill(-child.pid!, 'SIGINT')
    process.kill(-child.pid!, 'SIGCONT')
    const code = await Promise.race([done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))])
    assert.equal(code, 0, stderr)
    assert.equal(stderr.match(/drained and exited/g)?.length, 2, stderr)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
})

test('run --processes 2, the swarm killed (SIGKILL): its workers drain and exit rather than run on unsupervised', async () => {
  const topic = await createTopic('seg-run-orphans', 2)
  const group = uniqueName('seg-run-orphans')
  await produceRecords(topic, 100, { partitions: 2 })
  const child = spawn(process.execPath, [bin, 'run', appModule, '--processes', '2'], {
    env: cliEnv({ topic, group, count: 2, handlerDelayMs: 50 }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const pids = () => [...stderr.matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]))
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  try {
    await waitUntil(() => pids().length === 2 && stdout.includes('P '), {
      timeoutMs: 60_000,
      message: `the workers handle records:\n${stderr}`,
    })
    child.kill('SIGKILL')
    await waitUntil(() => pids().every((pid) => !alive(pid)), {
      timeoutMs: 30_000,
      message: `the workers (pids ${pids().join(', ')}) exit once the swarm is gone`,
    })
  } finally {
    for (const pid of pids()) if (alive(pid)) process.kill(pid, 'SIGKILL')
  }
})

test('run --processes 2 stopped cgroup-wide (SIGTERM to run and every worker at once): every worker drains, exit 0', async () => {
  const topic = await createTopic('seg-run-cgroup', 2)
  const group = uniqueName('seg-run-cgroup')
  await produceRecords(topic, 200, { partitions: 2 })
  const child = spawn(process.execPath, [bin, 'run', appModule, '--processes', '2'], {
    env: cliEnv({ topic, group, count: 2, handlerDelayMs: 200 }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const done = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  const workers = () => [...stderr.matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]))
  try {
    await waitUntil(
      () =>
        new Set(
          stdout
            .split('\n')
            .filter((l) => l.startsWith('P '))
            .map((l) => l.split(' ')[1]),
        ).size === 2,
      { timeoutMs: 60_000, message: `both workers handle records:\n${stderr}` },
    )
    // As systemd's default KillMode does: one SIGTERM to every process of the unit, at once
    // (stopped first, so each has it pending when they resume together).
    const all = [child.pid!, ...workers()]
    for (const pid of all) process.kill(pid, 'SIGSTOP')
    for (const pid of all) process.kill(pid, 'SIGTERM')
    for (const pid of all) process.kill(pid, 'SIGCONT')
    const code = await Promise.race([done, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))])
    assert.equal(code, 0, stderr)
    assert.equal(stderr.match(/drained and exited/g)?.length, 2, stderr)
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    for (const pid of workers()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
})
