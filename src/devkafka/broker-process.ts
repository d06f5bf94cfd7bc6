// Operating-system side of running Kafka nodes: the JVM process, its tools, its log.
import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { DevKafkaError } from './errors.ts'
import { writePrivateFile } from './files.ts'
import { isKafkaNodeOf, processExited } from './process-identity.ts'

export function logTail(logFile: string, lines = 30): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log written)'
  }
}

/** Runs a program to completion with its output appended to the broker log. */
export async function runTool(
  program: string,
  args: string[],
  logFile: string,
  label: string,
): Promise<void> {
  const out = openSync(logFile, 'a')
  try {
    const child = spawn(program, args, { stdio: ['ignore', out, out] })
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', resolve)
    })
    if (code !== 0) {
      throw new DevKafkaError('BROKER_EXITED', `${label} failed (exit ${code}):\n${logTail(logFile)}`)
    }
  } finally {
    closeSync(out)
  }
}

/** One argument in a Java argument file: quoted, with `\` and `"` escaped. */
function argumentFileEntry(arg: string): string {
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/**
 * Runs a Java main class with its arguments in a private argument file (`java @file`): arguments
 * that hold credentials never appear on a command line other users can read with `ps`.
 */
export async function runJavaTool(
  java: string,
  args: string[],
  logFile: string,
  label: string,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'multilane-java-')) // 0700
  try {
    const argumentFile = join(dir, 'arguments')
    writePrivateFile(argumentFile, `${args.map(argumentFileEntry).join('\n')}\n`)
    await runTool(java, [`@${argumentFile}`], logFile, label)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** JVM arguments every Kafka tool and node here runs with: the jars and the log4j2 file. */
export function jvmArguments(classpath: string, log4jFile: string): string[] {
  return ['-cp', classpath, `-Dlog4j2.configurationFile=${log4jFile}`, '-Djava.awt.headless=true']
}

/** A Kafka node started in the background; `exit` is set once it exits. */
export interface BrokerProcess {
  pid: number
  /** How it ended ("code 1", "signal SIGKILL"); undefined while it runs. */
  exit: string | undefined
}

/**
 * Starts `kafka.Kafka <propertiesFile>` detached (it outlives the CLI that started it), heap at
 * most 1 GB, output appended to `logFile`. The properties file's path, last on the command line,
 * is how the launcher recognises the node later (`isKafkaNodeOf`).
 */
export function spawnBroker(
  java: string,
  jvmBase: readonly string[],
  propertiesFile: string,
  logFile: string,
): BrokerProcess {
  const out = openSync(logFile, 'a')
  const child = spawn(
    java,
    [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      ...jvmBase,
      'kafka.Kafka',
      propertiesFile,
    ],
    { detached: true, stdio: ['ignore', out, out] },
  )
  closeSync(out)
  child.unref()
  if (child.pid === undefined) throw new DevKafkaError('BROKER_EXITED', `could not spawn ${java}`)
  const broker: BrokerProcess = { pid: child.pid, exit: undefined }
  child.once('exit', (code, signal) => {
    broker.exit = signal ? `signal ${signal}` : `code ${code}`
  })
  return broker
}

/** Polls until `pid` has exited completely; false when `timeoutMs` passed first. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!processExited(pid)) {
    if (Date.now() > deadline) return false
    await sleep(50)
  }
  return true
}

/**
 * Stops the Kafka node `pid` started with `propertiesFile`: SIGTERM (a controlled shutdown),
 * SIGKILL after `timeoutMs`. Resolves once the process has exited completely (its ports and
 * data files released). Returns false, signalling nothing, when `pid` is not that node.
 */
export async function stopKafkaNode(
  pid: number,
  propertiesFile: string,
  timeoutMs: number,
): Promise<boolean> {
  if (!isKafkaNodeOf(pid, propertiesFile)) return false
  signal(pid, 'SIGTERM')
  if (await waitForExit(pid, timeoutMs)) return true
  // Still the same process: it has not exited, so its pid cannot have been reused.
  signal(pid, 'SIGKILL')
  if (await waitForExit(pid, 10_000)) return true
  throw new DevKafkaError('STOP_FAILED', `The broker (pid ${pid}) survived SIGKILL; check it with ps.`)
}

/** Sends `name` to `pid`; a process that has just exited is not an error. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}
