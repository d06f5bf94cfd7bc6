// One launcher at a time per broker directory: `kafka start` (from a shell and from a test run's
// setup at once), `stop` and `addLocalBroker` each hold this lock while they change the
// directory, so two of them never both format the same data directory.
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DevKafkaError } from './errors.ts'
import { processStartTime } from './process-identity.ts'

const LOCK_FILE = 'launcher.lock'

interface LockHolder {
  pid: number
  /** The holder's start time, so a pid reused after a crash is not taken for the holder. */
  startTime?: string
  purpose: string
  since: string
}

export interface DirLockOptions {
  /** What the lock is for, shown to whoever waits (e.g. "kafka start"). */
  purpose: string
  /** How long to wait for another holder (default 10 minutes: a first start resolves jars). */
  timeoutMs?: number
  /** Called once when the lock is held by another live process and this call starts waiting. */
  onWait?: (holder: LockHolder) => void
}

/** Releases the lock (idempotent). */
export type ReleaseLock = () => void

function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder
  } catch {
    return undefined
  }
}

/** A holder is alive when its pid runs and (where known) started when the holder did. */
function holderAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  return holder.startTime === undefined || processStartTime(holder.pid) === holder.startTime
}

/** Locks this process holds, by lock file: calls within one process queue here, processes on the file. */
const heldHere = new Map<string, Promise<void>>()

// A process that exits while holding a lock (process.exit on Ctrl-C) removes it on the way out;
// one that is killed leaves it, and the next launcher finds its holder dead.
process.once('exit', () => {
  for (const path of heldHere.keys()) {
    if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true })
  }
})

/**
 * Takes the lock of broker directory `dir`, waiting while another call or live process holds it.
 * A lock left by a process that died (Ctrl-C, SIGKILL) is taken over.
 */
export async function acquireDirLock(dir: string, options: DirLockOptions): Promise<ReleaseLock> {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, LOCK_FILE)
  for (let busy = heldHere.get(path); busy; busy = heldHere.get(path)) await busy
  let done = (): void => {}
  heldHere.set(
    path,
    new Promise<void>((resolve) => {
      done = resolve
    }),
  )
  const leave = (): void => {
    heldHere.delete(path)
    done()
  }
  try {
    const releaseFile = await acquireFileLock(dir, path, options)
    return () => {
      releaseFile()
      leave()
    }
  } catch (error) {
    leave()
    throw error
  }
}

async function acquireFileLock(dir: string, path: string, options: DirLockOptions): Promise<ReleaseLock> {
  const me: LockHolder = {
    pid: process.pid,
    ...(processStartTime(process.pid) === undefined ? {} : { startTime: processStartTime(process.pid) }),
    purpose: options.purpose,
    since: new Date().toISOString(),
  }
  const deadline = Date.now() + (options.timeoutMs ?? 600_000)
  let waiting = false
  for (;;) {
    try {
      writeFileSync(path, `${JSON.stringify(me)}\n`, { flag: 'wx' })
      let released = false
      return () => {
        if (released) return
        released = true
        if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = readHolder(path)
    if (holder === undefined) {
      // Being written this instant, or left empty by a crash between create and write.
      await sleep(50)
      const again = readHolder(path)
      if (again === undefined) breakStaleLock(path, undefined)
      continue
    }
    // This process holds no lock here (calls queue above): one of ours is a leftover.
    if (!holderAlive(holder) || holder.pid === process.pid) {
      breakStaleLock(path, holder)
      continue
    }
    if (Date.now() > deadline) {
      throw new DevKafkaError(
        'LOCKED',
        `${dir} is locked by pid ${holder.pid} (${holder.purpose}, since ${holder.since}); ` +
          'wait for it to finish, or end that process if it hangs.',
      )
    }
    if (!waiting) {
      waiting = true
      options.onWait?.(holder)
    }
    await sleep(200)
  }
}

/**
 * Removes a dead holder's lock. Renaming first makes the removal atomic: of several processes
 * that found the same stale lock, one moves it away; if what was moved turns out to be a live
 * lock taken meanwhile, it is put back (link fails if yet another was taken; that one stands).
 */
function breakStaleLock(path: string, stale: LockHolder | undefined): void {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`
  try {
    renameSync(path, aside)
  } catch {
    return // someone else moved it
  }
  const moved = readHolder(aside)
  if (moved !== undefined && (stale === undefined || moved.pid !== stale.pid) && holderAlive(moved)) {
    try {
      linkSync(aside, path)
    } catch {
      // a new lock exists already
    }
  }
  rmSync(aside, { force: true })
}
