// Operating-system side of running Kafka nodes: ports, the JVM process, its log.
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { DevKafkaError } from './errors.ts'

/** True when `pid` is alive and (on Linux) still a Kafka broker, not a recycled pid. */
export function isBrokerProcess(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka')
  } catch {
    return true
  }
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

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

/** JVM arguments every Kafka tool and node here runs with: the jars and the log4j2 file. */
export function jvmArguments(classpath: string, log4jFile: string): string[] {
  return ['-cp', classpath, `-Dlog4j2.configurationFile=${log4jFile}`, '-Djava.awt.headless=true']
}

/** A Kafka node started in the background; `exitCode` is set once it exits. */
export interface BrokerProcess {
  pid: number
  exitCode: number | null | undefined
}

/**
 * Starts `kafka.Kafka` detached (it outlives the CLI that started it), heap at most 1 GB,
 * output appended to `logFile`.
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
  const broker: BrokerProcess = { pid: child.pid, exitCode: undefined }
  child.once('exit', (code) => {
    broker.exitCode = code
  })
  return broker
}

/** SIGTERM (a controlled shutdown), then SIGKILL after `timeoutMs`; resolves once the process is gone. */
export async function stopBrokerProcess(pid: number, timeoutMs: number): Promise<void> {
  if (!isBrokerProcess(pid)) return
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + timeoutMs
  while (isBrokerProcess(pid) && Date.now() < deadline) await sleep(100)
  if (!isBrokerProcess(pid)) return
  process.kill(pid, 'SIGKILL')
  const killDeadline = Date.now() + 5000
  while (isBrokerProcess(pid) && Date.now() < killDeadline) await sleep(50)
  if (isBrokerProcess(pid)) {
    throw new DevKafkaError('STOP_FAILED', `The broker (pid ${pid}) survived SIGKILL; check it with ps.`)
  }
}
