// Files the launcher writes: whole (a reader never sees half a file) and, for secrets, private.
import { randomBytes } from 'node:crypto'
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs'

/** Owner read/write only: files holding passwords or private keys. */
export const PRIVATE_MODE = 0o600

/**
 * Writes `path` through a temporary file beside it and a rename, so readers see the old file or
 * the new one, never a partial one. `mode` applies to the new file (also when `path` existed
 * with other permissions).
 */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    writeFileSync(temporary, content, { mode, flag: 'wx' })
    chmodSync(temporary, mode) // the umask may have narrowed or (for 0644) kept it; make it exact
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}

/** A file only its owner may read (broker configuration with passwords). */
export function writePrivateFile(path: string, content: string): void {
  writeFileAtomic(path, content, PRIVATE_MODE)
}
