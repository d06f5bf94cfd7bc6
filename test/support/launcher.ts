// Helpers for the launcher's own tests: private broker directories, the `multilane` command as
// a child process, stand-in processes, and a JAVA_HOME that records every command line.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { resolveKafkaJars } from '../../src/devkafka/kafka-jars.ts'
import { kafkaVersion } from '../../src/devkafka/kafka-version.ts'
import { jarCacheDir } from '../../src/devkafka/paths.ts'

export const bin = join(import.meta.dirname, '../../bin/multilane.js')

/** A temporary broker directory and the environment that points the launcher at it. */
export function privateBrokerEnv(prefix: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `${prefix}-`)))
  // No KAFKA_BOOTSTRAP_SERVERS: commands must find this directory's broker themselves.
  const { KAFKA_BOOTSTRAP_SERVERS: _, ...env } = process.env
  return { dir, env: { ...env, MULTILANE_BROKER_DIR: join(dir, 'broker') } }
}

/**
 * A private cache root (TLS keystore made afresh) whose jar cache links to the real one, so no
 * jars are downloaded again.
 */
export function privateCacheEnv(dir: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const cache = join(dir, 'cache')
  const version = kafkaVersion(env)
  resolveKafkaJars(version, env) // the real cache must exist to be linked (a no-op once it does)
  mkdirSync(join(cache, 'kafka'), { recursive: true })
  symlinkSync(jarCacheDir(version, env), join(cache, 'kafka', version))
  return { ...env, MULTILANE_CACHE_DIR: cache }
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `multilane …` to completion. */
export function multilane(args: string[], env: NodeJS.ProcessEnv): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env })
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

/** Runs `multilane …` in the background, collecting its output. */
export function spawnMultilane(
  args: string[],
  env: NodeJS.ProcessEnv,
  node = process.execPath,
  nodeArgs: string[] = [],
): { child: ChildProcess; output: () => string; done: Promise<CliResult> } {
  const child = spawn(node, [...nodeArgs, bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString()
  })
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
  })
  const done = new Promise<CliResult>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  )
  return { child, output: () => stdout + stderr, done }
}

/** Waits until `read()` matches `pattern` (deadline `timeoutMs`). */
export async function waitForOutput(read: () => string, pattern: RegExp, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in:\n${read()}`)
    await sleep(20)
  }
}

/** Pids of running processes whose command line mentions `path` (not zombies: their command line is empty). */
export function processesUsing(path: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', path], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number)
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

/**
 * True when `pid` has let go of everything: no such process, or a zombie with no thread left
 * (read from /proc directly, independently of the launcher's own check).
 */
export function fullyExited(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return /^State:\s+Z/m.test(status) && /^Threads:\s+1$/m.test(status)
  } catch {
    return true
  }
}

/** A process that idles with `args` on its command line (a stand-in for someone else's Kafka). */
export function standIn(args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', ...args], {
    stdio: 'ignore',
  })
  return child
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * A JAVA_HOME whose `java` and `keytool` log every command line (one line per run, arguments
 * separated by \x1f, to `logFile`) and then run the real ones. With `failKafka`,
 * `java … kafka.Kafka …` exits 1 at once (a broker that cannot start).
 */
export function recordingJavaHome(
  dir: string,
  logFile: string,
  options: { failKafka?: boolean } = {},
): string {
  const realJava = realpathSync(execFileSync('which', ['java'], { encoding: 'utf8' }).trim())
  const realHome = dirname(dirname(realJava))
  const home = join(dir, 'jdk')
  mkdirSync(join(home, 'bin'), { recursive: true })
  for (const tool of ['java', 'keytool']) {
    const refuse =
      options.failKafka && tool === 'java'
        ? `for a in "$@"; do [ "$a" = kafka.Kafka ] && { echo 'refusing to start kafka.Kafka (test)' >&2; exit 1; }; done\n`
        : ''
    const script = join(home, 'bin', tool)
    writeFileSync(
      script,
      `#!/bin/sh\n{ printf '%s\\037' ${tool} "$@"; printf '\\n'; } >> '${logFile}'\n${refuse}exec '${join(realHome, 'bin', tool)}' "$@"\n`,
    )
    chmodSync(script, 0o755)
  }
  return home
}

/** The command lines a `recordingJavaHome` logged, each as [tool, ...arguments]. */
export function recordedCommandLines(logFile: string): string[][] {
  try {
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\x1f').slice(0, -1))
  } catch {
    return []
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}
