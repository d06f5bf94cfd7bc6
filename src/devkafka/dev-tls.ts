// The local broker's TLS keystore: made once per machine with the JDK's keytool, shared by every
// broker directory. It is made in a private temporary directory and renamed into place whole,
// so a start never deletes or half-reads a keystore another start (or a running broker) uses.
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { tlsCertificateCommands } from './broker-config.ts'
import { runTool } from './broker-process.ts'
import { PRIVATE_MODE, writePrivateFile } from './files.ts'
import type { JavaRuntime } from './java-runtime.ts'
import { devTlsFiles } from './paths.ts'

/**
 * Makes sure the TLS keystore and its CA certificate exist (keystore readable by its owner only)
 * and returns their paths. Concurrent calls may each generate one; the first rename wins and the
 * others discard theirs.
 */
export async function ensureDevTls(
  java: JavaRuntime,
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ReturnType<typeof devTlsFiles>> {
  const files = devTlsFiles(env)
  if (existsSync(files.keystoreFile) && existsSync(files.caFile)) {
    // Keystores made by earlier versions were world-readable.
    if ((statSync(files.keystoreFile).mode & 0o077) !== 0) chmodSync(files.keystoreFile, PRIVATE_MODE)
    return files
  }
  mkdirSync(dirname(files.dir), { recursive: true })
  const staging = mkdtempSync(`${files.dir}.partial-`) // 0700
  try {
    const keystore = join(staging, 'broker-keystore.p12')
    const ca = join(staging, 'broker-ca.pem')
    // keytool reads the password from a file: never on a command line that `ps` shows.
    const passwordFile = join(staging, 'password')
    writePrivateFile(passwordFile, files.password)
    for (const args of tlsCertificateCommands(keystore, ca, passwordFile)) {
      await runTool(java.keytool, args, logFile, 'Creating the TLS certificate (keytool)')
    }
    rmSync(passwordFile)
    chmodSync(keystore, PRIVATE_MODE)
    chmodSync(ca, 0o644)
    chmodSync(staging, 0o755)
    try {
      renameSync(staging, files.dir)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
      if (!(existsSync(files.keystoreFile) && existsSync(files.caFile))) {
        // An incomplete directory from an older launcher: replace it.
        const aside = `${files.dir}.incomplete-${randomBytes(4).toString('hex')}`
        renameSync(files.dir, aside)
        rmSync(aside, { recursive: true, force: true })
        renameSync(staging, files.dir)
      }
      // else another start made one first: use it
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  return files
}
