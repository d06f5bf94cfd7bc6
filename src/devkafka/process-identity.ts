// Which process is which: the launcher signals a process only after proving it is a Kafka node
// of this broker directory (its command line names this directory's own properties file), and
// counts a process as gone only once it has really exited.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

const onLinux = process.platform === 'linux'

/**
 * The arguments of a live process (empty for a zombie), or undefined when it is gone or cannot
 * be read. Outside Linux, `ps` gives one string that is split on spaces (paths with spaces then
 * match less precisely).
 */
export function processArguments(pid: number): string[] | undefined {
  if (onLinux) {
    try {
      const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      return raw === '' ? [] : raw.replace(/\0$/, '').split('\0')
    } catch {
      return undefined
    }
  }
  const ps = spawnSync('ps', ['-ww', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8' })
  if (ps.status !== 0) return undefined
  return ps.stdout.trim().split(/\s+/)
}

/** True when `args` are those of `kafka.Kafka <propertiesFile>` (the way the launcher starts nodes). */
function runsNodeOf(args: readonly string[], propertiesFile: string): boolean {
  const main = args.indexOf('kafka.Kafka')
  return main >= 0 && args[main + 1] === propertiesFile
}

/**
 * True when `pid` is alive and is the Kafka node started with exactly `propertiesFile` (an
 * absolute path): never a system Kafka, another directory's broker, a node added to this one,
 * or an unrelated process that inherited a recorded pid.
 */
export function isKafkaNodeOf(pid: number, propertiesFile: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  const args = processArguments(pid)
  return args !== undefined && runsNodeOf(args, propertiesFile)
}

/** Pids of every running Kafka node started with `propertiesFile`, recorded or not. */
export function findKafkaNodesOf(propertiesFile: string): number[] {
  if (onLinux) {
    const pids: number[] = []
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const pid = Number(entry)
      if (pid !== process.pid && isKafkaNodeOf(pid, propertiesFile)) pids.push(pid)
    }
    return pids
  }
  const ps = spawnSync('ps', ['-axww', '-o', 'pid=,args='], { encoding: 'utf8' })
  return ps.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length > 1 && runsNodeOf(parts.slice(1), propertiesFile))
    .map((parts) => Number(parts[0]))
}

/**
 * True once `pid` has exited completely. A multi-threaded JVM's main thread turns zombie (and
 * its command line reads empty) while other threads still run and hold its sockets and files;
 * only a zombie with no thread left has let go of everything.
 */
export function processExited(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
  if (!onLinux) return false
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const state = /^State:\s+(\S)/m.exec(status)?.[1]
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1)
    return (state === 'Z' || state === 'X') && threads <= 1
  } catch {
    return true
  }
}

/** When the process started (Linux: clock ticks since boot), to tell a reused pid apart; else undefined. */
export function processStartTime(pid: number): string | undefined {
  if (!onLinux) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may contain spaces) start at field 3; starttime is 22.
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .at(19)
  } catch {
    return undefined
  }
}
