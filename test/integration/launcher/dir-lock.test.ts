// One launcher at a time per broker directory. Calls in one process queue;
// another live process's lock is waited for; a dead process's lock is taken over.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { acquireDirLock } from '../../../src/devkafka/dir-lock.ts'
import { DevKafkaError } from '../../../src/devkafka/errors.ts'

const lockModule = join(import.meta.dirname, '../../../src/devkafka/dir-lock.ts')

test('calls within one process take turns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-lock-'))
  try {
    const order: string[] = []
    const first = await acquireDirLock(dir, { purpose: 'first' })
    const second = acquireDirLock(dir, { purpose: 'second' }).then((release) => {
      order.push('second acquired')
      release()
    })
    await new Promise((r) => setTimeout(r, 300))
    order.push('first releases')
    first()
    await second
    assert.deepEqual(order, ['first releases', 'second acquired'])
    assert.equal(existsSync(join(dir, 'launcher.lock')), false, 'released locks leave no file')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a live process holding the lock is waited for (and named); a timeout names it too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-lock-'))
  const holder = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { acquireDirLock } = await import(${JSON.stringify(lockModule)})
       const release = await acquireDirLock(${JSON.stringify(dir)}, { purpose: 'kafka start' })
       process.stdout.write('held\\n')
       process.stdin.once('data', () => { release(); process.exit(0) })`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  try {
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()))
    await assert.rejects(
      acquireDirLock(dir, { purpose: 'test', timeoutMs: 500 }),
      (e) =>
        e instanceof DevKafkaError &&
        e.code === 'LOCKED' &&
        e.message.includes(`pid ${holder.pid}`) &&
        e.message.includes('kafka start'),
    )
    let waitedFor: number | undefined
    const acquired = acquireDirLock(dir, { purpose: 'test', onWait: (h) => (waitedFor = h.pid) })
    await new Promise((r) => setTimeout(r, 400))
    assert.equal(waitedFor, holder.pid)
    holder.stdin!.write('release\n')
    const release = await acquired
    release()
  } finally {
    holder.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

test("a dead process's lock (Ctrl-C, SIGKILL) is taken over at once", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-lock-'))
  try {
    const dead = spawn(process.execPath, ['-e', ''])
    await new Promise((r) => dead.once('exit', r))
    writeFileSync(
      join(dir, 'launcher.lock'),
      JSON.stringify({ pid: dead.pid, purpose: 'kafka start', since: new Date().toISOString() }),
    )
    const started = Date.now()
    const release = await acquireDirLock(dir, { purpose: 'test', timeoutMs: 5000 })
    assert.ok(Date.now() - started < 2000)
    release()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
